"""Settings: one TOML file, a section per concern, any key overridden by ``HOSO_<SECTION>__<KEY>``.

With no file at all the embedded default applies: a SQLite file in the working directory. A wrong
or unknown key stops the program at start, naming the key.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.channels.zalo.config import ZaloSettings
from bot.reminders.config import RemindersSettings
from bot.reminders.reach_config import ReachSettings
from bot.roster.limits import RosterLimits


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(Section):
    url: str = "sqlite+aiosqlite:///hoso.db"
    pool_size: int = 10
    max_overflow: int = 10


class ReviewSettings(Section):
    deadline: date = date(2026, 12, 16)
    timezone: str = "Asia/Ho_Chi_Minh"


class ConsentSettings(Section):
    version: str = "2026-01"
    controller: str = "Sở Giáo dục và Đào tạo Thành phố Hồ Chí Minh"
    data_kinds: str = (
        "họ tên, ngày sinh, giới tính, số định danh cá nhân, số điện thoại, địa chỉ, "
        "dân tộc và tôn giáo"
    )
    purpose: str = (
        "cập nhật cơ sở dữ liệu ngành giáo dục và đối chiếu với Cơ sở dữ liệu quốc gia về dân cư"
    )
    retention: str = "đến khi hồ sơ được cập nhật vào cơ sở dữ liệu ngành, tối đa 12 tháng"
    contact: str = "văn thư nhà trường"


class CatalogueSettings(Section):
    staff: Path | None = None
    student: Path | None = None


class IdentitySettings(Section):
    invitation_days: int = 30
    max_failed_proofs: int = 5
    lock_minutes: int = 30


class RetentionSettings(Section):
    #: Unused invitations are deleted this many days after they expired.
    invitations_days: int = 30
    #: Processed inbox entries (update ids for de-duplication, no message text) are kept this long.
    inbox_days: int = 30


class VerifySettings(Section):
    """Which verifier checks each submitted change set before review (see
    ``bot.schoolreview.verify``)."""

    kind: Literal["offline", "http"] = "offline"
    url: str = ""
    token: SecretStr | None = None
    timeout: float = 10.0


class ImportSettings(Section):
    """``hoso import``: other spellings of the roster headers, and rows per transaction."""

    #: Header text as a school's software writes it -> field key, e.g. "Mã học sinh" ->
    #: "ma_dinh_danh" (compared without case, accents and spaces, like the standard headers).
    columns: dict[str, str] = {}
    batch_size: int = Field(default=10_000, ge=1, le=50_000)


class ExportSettings(Section):
    """Delivery of approved change sets to the central database (see ``bot.export.delivery``)."""

    sink: Literal["files", "http"] = "files"
    directory: Path = Path("exports")
    url: str = ""
    token: SecretStr | None = None
    max_attempts: int = Field(default=8, ge=1)
    timeout: float = Field(default=10.0, gt=0)
    lease_seconds: float = Field(default=120.0, gt=0)
    backoff_seconds: float = Field(default=2.0, gt=0)
    backoff_max_seconds: float = Field(default=3600.0, gt=0)
    concurrency: int = Field(default=4, ge=1, le=64)
    poll_seconds: float = Field(default=30.0, gt=0)


class AdminSettings(Section):
    """Files school admins exchange with the bot (rosters they send, reports they get)."""

    files_dir: Path = Path("admin_files")


class WorkerSettings(Section):
    """How the processes of a deployment share the work (see DEPLOY.md)."""

    #: How long a turn worker holds the chats it claimed; a killed worker's chats wait this long.
    turn_lease_seconds: float = Field(default=30.0, gt=0)
    #: How long a sender holds the replies it claimed; a killed sender's chats wait this long.
    reply_lease_seconds: float = Field(default=60.0, gt=0)
    #: Chats claimed per pass.
    turn_batch: int = Field(default=20, ge=1, le=500)
    #: How often a worker looks for work it was not woken for (updates another process took in).
    poll_seconds: float = Field(default=0.2, gt=0)
    #: Health and Prometheus metrics (``/healthz``, ``/metrics``); 0 turns them off.
    ops_port: int = Field(default=0, ge=0, le=65535)
    ops_host: str = "127.0.0.1"
    #: Seconds a stopping process waits for work in hand before it gives the rest back.
    shutdown_grace_seconds: float = Field(default=10.0, gt=0)


class TelegramSettings(Section):
    token: SecretStr | None = None
    api_server: str = "https://api.telegram.org"
    bot_username: str = ""
    webhook_url: str = ""
    webhook_secret: SecretStr | None = None
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HOSO_", env_nested_delimiter="__", extra="forbid", frozen=True
    )
    config_file: ClassVar[Path | None] = None

    database: DatabaseSettings = DatabaseSettings()
    review: ReviewSettings = ReviewSettings()
    consent: ConsentSettings = ConsentSettings()
    catalogue: CatalogueSettings = CatalogueSettings()
    identity: IdentitySettings = IdentitySettings()
    retention: RetentionSettings = RetentionSettings()
    telegram: TelegramSettings = TelegramSettings()
    zalo: ZaloSettings = ZaloSettings()
    # "import" is a Python keyword; the alias keeps the section [import] and HOSO_IMPORT__*.
    import_: ImportSettings = Field(
        default=ImportSettings(), validation_alias=AliasChoices("import", "hoso_import")
    )
    verify: VerifySettings = VerifySettings()
    admin: AdminSettings = AdminSettings()
    export: ExportSettings = ExportSettings()
    reminders: RemindersSettings = RemindersSettings()
    reach: ReachSettings = ReachSettings()
    workers: WorkerSettings = WorkerSettings()
    limits: RosterLimits = RosterLimits()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if cls.config_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls.config_file))
        return tuple(sources)


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message names the file and the key."""


def load_settings(path: Path | None = None) -> Settings:
    """Read ``path`` (or ``$HOSO_CONFIG``), then the environment; fail naming the bad key."""
    if path is None and os.environ.get("HOSO_CONFIG"):
        path = Path(os.environ["HOSO_CONFIG"])
    if path is not None and not path.is_file():
        raise ConfigError(f"không tìm thấy tệp cấu hình {path}")

    class _Loaded(Settings):
        config_file: ClassVar[Path | None] = path

    try:
        return _Loaded()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"cấu hình sai ({path or 'môi trường'}): {problems}") from exc
