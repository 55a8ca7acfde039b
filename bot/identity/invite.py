"""``hoso invite``: one-time invitation codes for a school's staff and students' parents.

Everyone of the unit (a school: its staff and every class; a class: its students) gets a fresh
random code in ONE transaction; only the code's keyed hash is stored
(``bot.identity.invitations``), so the
output file is the only place the plain codes ever exist. Staff get a code for themselves
(role ``self``), each student a code for a parent (role ``guardian``). People are read one unit at
a time, in class order, and sorted by name within the unit; the file is written as they go.

Issuing again for the same person issues a NEW code and revokes the person's earlier codes that
were never used (they expire at that moment), so two valid sets of slips never exist: the new
slips replace the old ones, and the run says how many old codes it revoked. ``--only-missing``
skips people whose record is already linked to a chat account (their codes are left alone).

When Zalo is configured (``[zalo] oa_id``), each slip carries the Zalo way in as well: a second
QR code that opens the school's Official Account, where the person types the code.

The output (CSV, or PDF slips from ``bot.identity.invite_pdf``) is written under a temporary name
and
published only after the codes are committed, so a failed run leaves neither a file nor codes.
The terminal only shows counts and the output path, never a code or a name.
"""

from __future__ import annotations

import asyncio
import csv
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.config.schema import require_schema
from bot.config.settings import Settings
from bot.config.stores import open_store
from bot.identity.invitations import code_hash, installation_pepper, new_code, normalise_code
from bot.kernel.clock import utc_now
from bot.sheets.cells import csv_row
from flows.context import role_for_kind
from storage.repos.roster_queries import RosterMember, RosterUnit
from storage.uow import Store, UnitOfWork

CSV_COLUMNS = ("ma_dinh_danh", "ho_ten", "lop", "role", "code", "link", "expires", "zalo")
OUTPUT_SUFFIXES = (".csv", ".pdf")
STAFF_GROUP = "Cán bộ, giáo viên, nhân viên"


class InviteError(Exception):
    """Invitations could not be issued (unknown unit, nobody to invite …); Vietnamese message."""


@dataclass(frozen=True)
class InviteJob:
    unit: str
    out: Path
    class_name: str | None = None
    only_missing: bool = False


@dataclass(frozen=True)
class Slip:
    """One invitation as handed out: who it is for, the plain code and where to use it."""

    school: str
    group: str
    lop: str
    ma_dinh_danh: str
    ho_ten: str
    role: str
    code: str
    link: str
    expires: datetime
    #: The OA's link (``https://zalo.me/<OA id>``) when Zalo is configured, else "".
    zalo: str = ""


@dataclass
class InviteSummary:
    out: Path
    groups: dict[str, int] = field(default_factory=dict)
    #: Earlier codes of the same people, never used, revoked by this run.
    revoked: int = 0

    @property
    def total(self) -> int:
        return sum(self.groups.values())


class SlipWriter(Protocol):
    def add(self, slip: Slip) -> None: ...
    def finish(self) -> None: ...
    def publish(self) -> None: ...
    def abort(self) -> None: ...


class CsvSlipWriter:
    """UTF-8 with BOM so Excel shows Vietnamese; cells that Excel would run are quoted."""

    def __init__(self, path: Path, timezone: ZoneInfo) -> None:
        self._path, self._tmp, self._tz = path, _temporary(path), timezone
        try:
            self._handle = self._tmp.open("w", encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise InviteError(f"Không ghi được tệp {path}: {exc.strerror}.") from exc
        self._csv = csv.writer(self._handle)
        self._csv.writerow(CSV_COLUMNS)

    def add(self, slip: Slip) -> None:
        expires = slip.expires.astimezone(self._tz).strftime("%d/%m/%Y %H:%M")
        row = (
            slip.ma_dinh_danh, slip.ho_ten, slip.lop, slip.role, slip.code, slip.link, expires,
            slip.zalo,
        )  # fmt: skip
        self._csv.writerow(csv_row(row))

    def finish(self) -> None:
        self._handle.close()

    def publish(self) -> None:
        publish_file(self._tmp, self._path)

    def abort(self) -> None:
        self._handle.close()
        self._tmp.unlink(missing_ok=True)


def run_invite(job: InviteJob, settings: Settings) -> InviteSummary:
    """Issue the job's invitations on the configured database and write its output file."""
    return asyncio.run(_run(job, settings))


async def _run(job: InviteJob, settings: Settings) -> InviteSummary:
    db = settings.database
    await require_schema(db.url)
    store = open_store(db)
    try:
        return await issue_invitations(store, job, settings, at=utc_now())
    finally:
        await store.close()


async def issue_invitations(
    store: Store, job: InviteJob, settings: Settings, *, at: datetime
) -> InviteSummary:
    """Create one invitation per selected person, commit once, then publish the file."""
    writer = open_writer(job.out, settings)
    try:
        summary = await _issue_all(store, job, settings, writer, at)
        writer.publish()
    except BaseException:
        writer.abort()
        raise
    return summary


def open_writer(path: Path, settings: Settings) -> SlipWriter:
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise InviteError(f"Tệp kết quả {path.name} phải có đuôi .csv hoặc .pdf.")
    if suffix == ".csv":
        return CsvSlipWriter(path, ZoneInfo(settings.review.timezone))
    from bot.identity.invite_pdf import PdfSlipWriter  # reportlab is loaded only for PDFs

    return PdfSlipWriter(path, _temporary(path), settings)


async def _issue_all(
    store: Store, job: InviteJob, settings: Settings, writer: SlipWriter, at: datetime
) -> InviteSummary:
    summary = InviteSummary(job.out)
    expires = at + timedelta(days=settings.identity.invitation_days)
    try:
        async with store.unit_of_work() as uow:
            pepper = await installation_pepper(uow, at=at)
            for unit in await _selected_units(uow, job):
                members = await uow.roster.members(unit.id, only_unlinked=job.only_missing)
                for member in sorted(members, key=lambda m: name_key(m.ho_ten)):
                    summary.revoked += await uow.invitations.revoke_unused(member.id, at=at)
                    code = await _new_invitation(uow, member, pepper, expires=expires, at=at)
                    writer.add(_slip(unit, member, code, expires, settings))
                    group = group_name(unit)
                    summary.groups[group] = summary.groups.get(group, 0) + 1
            if summary.total == 0:
                raise InviteError(_nobody(job))
            if summary.revoked:
                uow.audit.add(
                    at=at, actor="cli", action="invitations_revoked", entity="unit",
                    entity_id=job.unit.strip(), details={"count": summary.revoked},
                )  # fmt: skip
            writer.finish()
            await uow.commit()
    except InviteError:
        raise
    except Exception as exc:  # no driver error may reach the user as a traceback
        raise InviteError(
            "Không đọc được cơ sở dữ liệu đã cấu hình. Hãy kiểm tra [database] url "
            "và chạy “hoso db upgrade”."
        ) from exc
    return summary


async def _selected_units(uow: UnitOfWork, job: InviteJob) -> list[RosterUnit]:
    units = await uow.roster.units_under(job.unit.strip())
    if not units:
        raise InviteError(f"Không có đơn vị mã «{job.unit}».")
    if job.class_name is not None:
        wanted = job.class_name.strip().casefold()
        units = [u for u in units if u.kind == "class" and wanted in _class_names(u)]
        if not units:
            raise InviteError(f"Không có lớp «{job.class_name}» trong đơn vị {job.unit}.")
    return sorted(units, key=_unit_order)


async def _new_invitation(
    uow: UnitOfWork, member: RosterMember, pepper: str, *, expires: datetime, at: datetime
) -> str:
    """A code no stored invitation has (a collision is astronomically rare, but cheap to rule
    out), stored as its hash only."""
    for _ in range(5):
        code = new_code()
        digest = code_hash(code, pepper)
        if await uow.invitations.by_hash(digest) is None:
            role = role_for_kind(member.kind)
            await uow.invitations.create(
                member.id, role=role, code_hash=digest, expires_at=expires, at=at
            )
            return code
    raise InviteError("Không tạo được mã mời mới; hãy chạy lại.")


def _slip(
    unit: RosterUnit, member: RosterMember, code: str, expires: datetime, settings: Settings
) -> Slip:
    school = unit.parent_name if unit.kind == "class" and unit.parent_name else unit.name
    return Slip(
        school=school,
        group=group_name(unit),
        lop=class_label(unit),
        ma_dinh_danh=member.ma_dinh_danh,
        ho_ten=unicodedata.normalize("NFC", member.ho_ten),
        role=role_for_kind(member.kind),
        code=code,
        link=deep_link(code, settings.telegram.bot_username),
        expires=expires,
        zalo=zalo_link(settings),
    )


def deep_link(code: str, bot_username: str) -> str:
    """``https://t.me/<bot>?start=<code without dash>``, or "" when no bot is configured."""
    name = bot_username.strip().lstrip("@")
    return f"https://t.me/{name}?start={normalise_code(code) or code}" if name else ""


def zalo_link(settings: Settings) -> str:
    """``https://zalo.me/<OA id>``, or "" when Zalo is not configured. It opens the Official
    Account's chat and carries no code (Zalo has no deep-link payload we could confirm), so the
    person types the code there. Assumed from Zalo's public OA links (README, Zalo)."""
    oa = settings.zalo.oa_id.strip()
    return f"https://zalo.me/{oa}" if oa else ""


#: ``hoso invite`` and ``hoso grant-admin --link`` say this (on stderr) when the Telegram bot's
#: username is not set: the QR code then holds only the bare code.
NO_USERNAME = (
    "Cảnh báo: chưa đặt [telegram] bot_username (HOSO_TELEGRAM__BOT_USERNAME), nên không có "
    "đường dẫn Telegram: mã QR chỉ chứa mã mời và người nhận phải tự tìm bot của nhà trường."
)


def class_label(unit: RosterUnit) -> str:
    """ "10A1" for the class unit ``79000701-10A1``; "" for a school (its staff)."""
    if unit.kind != "class":
        return ""
    if unit.parent_code and unit.code.startswith(unit.parent_code + "-"):
        return unit.code[len(unit.parent_code) + 1 :]
    return unit.name.removeprefix("Lớp ").strip()


def group_name(unit: RosterUnit) -> str:
    return f"Lớp {class_label(unit)}" if unit.kind == "class" else STAFF_GROUP


def name_key(full_name: str) -> tuple[str, str, str]:
    """Vietnamese order: by given name (the last word), then by the whole name."""
    folded = _fold(full_name)
    return (folded.rsplit(" ", 1)[-1], folded, full_name)


def _fold(text: str) -> str:
    """Without tones and marks, but Đ after every D as in the Vietnamese alphabet."""
    plain = unicodedata.normalize("NFD", text.replace("đ", "dz").replace("Đ", "Dz"))
    return " ".join("".join(c for c in plain if not unicodedata.combining(c)).casefold().split())


def _class_names(unit: RosterUnit) -> set[str]:
    return {class_label(unit).casefold(), unit.code.casefold(), unit.name.casefold()}


def _unit_order(unit: RosterUnit) -> tuple[str, int, tuple[str | int, ...]]:
    """A school's staff first, then its classes in natural order (10A2 before 10A10)."""
    school = (unit.parent_code or "") if unit.kind == "class" else unit.code
    parts = re.split(r"(\d+)", class_label(unit))
    natural = tuple(int(p) if i % 2 else p.casefold() for i, p in enumerate(parts))
    return (school, 1 if unit.kind == "class" else 0, natural)


def _nobody(job: InviteJob) -> str:
    where = f"lớp {job.class_name}" if job.class_name else f"đơn vị {job.unit}"
    if job.only_missing:
        return f"Mọi người trong {where} đều đã liên kết tài khoản; không có ai cần mời."
    return f"Trong {where} chưa có hồ sơ nào để mời."


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


def publish_file(tmp: Path, path: Path) -> None:
    try:
        tmp.replace(path)
    except OSError as exc:
        raise InviteError(f"Không ghi được tệp {path}: {exc.strerror}.") from exc
