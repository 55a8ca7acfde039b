"""The deployment files (DEPLOY.md, deploy/, Containerfile) checked as far as this machine allows
without root or a container runtime: every systemd unit parses and runs a real `hoso` command
line with valid roles, its settings load, its ports do not collide, it waits longer than the
shutdown grace; systemd itself verifies the units when it is installed; the compose file (when
PyYAML is there) and the Containerfile start what the guide says, and the image's health check
really tells a healthy process from a sick one."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

from bot.cli.main import app
from bot.config.settings import Settings, WorkerSettings, load_settings
from bot.roles.ops import start_ops
from bot.roles.registry import Role, parse_roles
from storage.db import make_engine
from storage.uow import Store
from tests.net import free_port

ROOT = Path(__file__).resolve().parent.parent
SYSTEMD = ROOT / "deploy" / "systemd"
PRODUCTION = ROOT / "deploy" / "config.production.toml"
HOSO = "/opt/hoso/venv/bin/hoso"
GRACE = WorkerSettings().shutdown_grace_seconds
SECTIONS = {
    ".service": {"Unit", "Service", "Install"},
    ".timer": {"Unit", "Timer", "Install"},
    ".target": {"Unit", "Install"},
}

Unit = dict[str, list[tuple[str, str]]]


def parse_unit(text: str) -> Unit:
    """systemd's ini dialect: sections, repeatable keys, comments, backslash continuations;
    anything else is an error (configparser would refuse the repeated keys)."""
    sections: Unit = {}
    current: list[tuple[str, str]] | None = None
    pending = ""
    for number, raw in enumerate(text.splitlines(), 1):
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        key, eq, value = line.partition("=")
        if not eq or current is None or not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", key):
            raise ValueError(f"line {number}: {raw!r}")
        current.append((key, value.strip()))
    assert not pending, "a continuation at the end of the file"
    return sections


def values(unit: Unit, section: str, key: str) -> list[str]:
    return [value for name, value in unit.get(section, []) if name == key]


def one(unit: Unit, section: str, key: str) -> str:
    found = values(unit, section, key)
    assert len(found) == 1, f"[{section}] {key}: {found}"
    return found[0]


def unit_files() -> list[Path]:
    return sorted(p for p in SYSTEMD.iterdir() if p.suffix in SECTIONS)


def service_files() -> list[Path]:
    return [p for p in unit_files() if p.suffix == ".service"]


def role_files() -> list[Path]:
    """The long-running roles: the template units."""
    return [p for p in service_files() if p.name.endswith("@.service")]


def load(path: Path) -> Unit:
    return parse_unit(path.read_text(encoding="utf-8"))


def instantiate(text: str, path: Path, instance: str) -> str:
    """What systemd makes of the specifiers these units use, for instance ``instance``."""
    prefix = path.name.split("@")[0].removesuffix(".service")
    return text.replace("%i", instance).replace("%p", prefix)


def seconds(text: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(ms|s|sec|min|m)?", text)
    assert match, text
    scale = {"ms": 0.001, "min": 60.0, "m": 60.0}.get(match.group(2) or "s", 1.0)
    return float(match.group(1)) * scale


def parse_command(argv: list[str]) -> tuple[str, dict[str, Any]]:
    """Parse a command line with the real CLI (sub-commands, options, their types) without
    running it; click (typer's own copy) raises on an unknown command or option or a value of
    the wrong type."""
    command: Any = get_command(app)
    path: list[str] = []
    args = list(argv)
    while hasattr(command, "list_commands"):  # a group
        assert args, f"hoso {' '.join(path)}: a sub-command is missing"
        name = args.pop(0)
        found = command.get_command(command.context_class(command), name)
        assert found is not None, f"hoso {' '.join(path)} has no sub-command {name!r}"
        command, path = found, [*path, name]
    context = command.make_context(" ".join(["hoso", *path]), args)
    return " ".join(path), dict(context.params)


def exec_start(path: Path, instance: str = "1") -> list[str]:
    unit = parse_unit(instantiate(path.read_text(encoding="utf-8"), path, instance))
    argv = shlex.split(one(unit, "Service", "ExecStart"))
    assert argv[0] == HOSO, argv
    return argv[1:]


def environment(path: Path, instance: str) -> dict[str, str]:
    unit = parse_unit(instantiate(path.read_text(encoding="utf-8"), path, instance))
    env: dict[str, str] = {}
    for line in values(unit, "Service", "Environment"):
        for item in shlex.split(line):
            key, _, value = item.partition("=")
            env[key] = value
    return env


def settings_under(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Settings:
    """The settings a process gets from this environment and the production config."""
    for key in list(os.environ):
        if key.startswith("HOSO_"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HOSO_CONFIG", str(PRODUCTION))
    return load_settings(None)


# ---- systemd ------------------------------------------------------------------------------


def test_the_guide_s_units_are_all_there() -> None:
    names = {p.name for p in unit_files()}
    for role in ("turns", "scheduler", "outbox", "ingress-telegram", "sender-telegram"):
        assert f"hoso-{role}@.service" in names
    assert {"hoso.target", "hoso-migrate.service", "hoso-purge.timer"} <= names


@pytest.mark.parametrize("path", unit_files(), ids=lambda p: p.name)
def test_every_unit_parses_into_known_sections(path: Path) -> None:
    unit = load(path)
    assert set(unit) <= SECTIONS[path.suffix]
    assert "Unit" in unit
    assert one(unit, "Unit", "Description")
    if path.suffix == ".service":
        assert "Service" in unit


@pytest.mark.parametrize("path", service_files(), ids=lambda p: p.name)
def test_every_exec_start_is_a_real_hoso_command_line(path: Path) -> None:
    for instance in ("1", "9"):
        command, params = parse_command(exec_start(path, instance))
        if path.name == "hoso-scheduler@.service":  # one scheduler for every channel
            assert command == "run scheduler"
            assert 1024 <= params["ops_port"] <= 65535
        elif path in role_files():
            assert command in ("run telegram", "run zalo")
            roles = parse_roles(params["role"] or [])
            role = path.name.removeprefix("hoso-").split("@")[0].split("-")[0]
            assert roles == {Role(role)}, "one role per unit, the one it is named after"
            assert 1024 <= params["ops_port"] <= 65535
            if Role.INGRESS in roles and command == "run telegram":
                assert params["webhook"], "Telegram ingress in production is the webhook"
        else:
            assert command in ("db upgrade", "purge")


def test_each_instance_of_each_role_has_its_own_ports() -> None:
    """Nine instances of every role fit on one host: no two processes bind the same port."""
    taken: dict[int, str] = {}
    for path in role_files():
        for instance in map(str, range(1, 10)):
            _, params = parse_command(exec_start(path, instance))
            ports = [params["ops_port"]]
            env = environment(path, instance)
            ports += [int(v) for k, v in env.items() if k.endswith("__LISTEN_PORT")]
            for port in ports:
                where = f"{path.name} {instance}"
                assert port not in taken, f"{where} and {taken.get(port)} share port {port}"
                assert 1024 <= port <= 65535
                taken[port] = where


@pytest.mark.parametrize("path", role_files(), ids=lambda p: p.name)
def test_roles_stop_gracefully_and_restart_on_failure(path: Path) -> None:
    unit = load(path)
    assert one(unit, "Service", "Type") in ("exec", "simple")
    assert one(unit, "Service", "Restart") == "on-failure"
    assert one(unit, "Service", "KillSignal") == "SIGTERM"
    stop = seconds(one(unit, "Service", "TimeoutStopSec"))
    production = load_settings(PRODUCTION).workers.shutdown_grace_seconds
    assert stop > GRACE
    assert stop > production
    assert values(unit, "Install", "WantedBy") == ["hoso.target"]
    assert one(unit, "Unit", "PartOf") == "hoso.target"


@pytest.mark.parametrize("path", service_files(), ids=lambda p: p.name)
def test_services_run_unprivileged_with_their_secrets_from_a_file(path: Path) -> None:
    unit = load(path)
    assert one(unit, "Service", "User") == "hoso"
    assert one(unit, "Service", "NoNewPrivileges") == "yes"
    assert one(unit, "Service", "ProtectSystem") == "strict"
    assert one(unit, "Service", "PrivateTmp") == "yes"
    assert "/etc/hoso/hoso.env" in values(unit, "Service", "EnvironmentFile")
    # The folders the production config writes to are the writable ones.
    settings = load_settings(PRODUCTION)
    writable = one(unit, "Service", "ReadWritePaths").split()
    assert str(settings.export.directory) in writable
    assert str(settings.admin.files_dir) in writable


@pytest.mark.parametrize("path", service_files(), ids=lambda p: p.name)
def test_unit_environment_loads_as_settings(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every HOSO_* a unit sets is a real setting (a misspelt key stops the program), and the
    per-instance ports and pool sizes reach the settings."""
    env = environment(path, "3")
    assert env.pop("HOSO_CONFIG") == "/etc/hoso/config.toml"
    settings = settings_under(monkeypatch, env)
    assert settings.database.pool_size == int(env["HOSO_DATABASE__POOL_SIZE"])
    assert settings.database.max_overflow == int(env["HOSO_DATABASE__MAX_OVERFLOW"])
    if "HOSO_TELEGRAM__LISTEN_PORT" in env:
        assert settings.telegram.listen_port == 8103
    if "HOSO_ZALO__LISTEN_PORT" in env:
        assert settings.zalo.listen_port == 8203


def test_the_env_example_names_only_real_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "deploy" / "hoso.env.example").read_text(encoding="utf-8")
    env = dict(
        line.lstrip("# ").split("=", 1)
        for line in text.splitlines()
        if re.match(r"#? ?HOSO_[A-Z_]+=", line)
    )
    assert {"HOSO_DATABASE__URL", "HOSO_TELEGRAM__TOKEN", "HOSO_TELEGRAM__WEBHOOK_SECRET"} <= set(
        env
    )
    settings = settings_under(monkeypatch, env)
    assert settings.database.url.startswith("postgresql+asyncpg://")
    assert settings.zalo.secret_key is not None


def test_systemd_verifies_the_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here")
    hoso = Path(sys.executable).with_name("hoso")
    assert hoso.exists(), "the project is installed in this interpreter's environment"
    copies = []
    for path in unit_files():
        name = path.name.replace("@.", "@1.")  # a template is verified as an instance
        copy = tmp_path / name
        copy.write_text(path.read_text(encoding="utf-8").replace(HOSO, str(hoso)))
        copies.append(str(copy))
    result = subprocess.run(
        [analyze, "verify", "--man=no", *copies], capture_output=True, text=True, timeout=120
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # systemd only warns about unknown keys and bad values and goes on: count them as failures.
    assert not re.search(r"ignoring|Unknown|Failed|not executable", output), output


# ---- containers ---------------------------------------------------------------------------


def instructions(path: Path) -> list[tuple[str, str]]:
    """A Dockerfile's instructions with their continuation lines joined."""
    found: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        word, _, rest = line.partition(" ")
        found.append((word.upper(), rest.strip()))
    return found


def containerfile() -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for word, rest in instructions(ROOT / "Containerfile"):
        grouped.setdefault(word, []).append(rest)
    return grouped


def test_the_image_runs_hoso_as_an_unprivileged_user() -> None:
    image = containerfile()
    assert image["FROM"] == ["python:3.11-slim"]
    assert json.loads(image["ENTRYPOINT"][-1]) == ["hoso"]
    assert image["USER"][-1] not in ("root", "0")
    assert any("pip install ." in run for run in image["RUN"])
    env = " ".join(image["ENV"])
    exposed = {int(port) for line in image["EXPOSE"] for port in line.split()}
    for key in ("HOSO_TELEGRAM__LISTEN_PORT", "HOSO_ZALO__LISTEN_PORT", "HOSO_WORKERS__OPS_PORT"):
        port = re.search(rf"{key}=(\d+)", env)
        assert port is not None, key
        assert int(port.group(1)) in exposed, f"{key} is not exposed"
    health = image["HEALTHCHECK"][-1]
    assert "curl" not in health
    assert "wget" not in health


def health_command() -> list[str]:
    health = containerfile()["HEALTHCHECK"][-1]
    command: list[str] = json.loads(health[health.index("CMD") + 3 :].strip())
    assert command[0] == "python"
    return [sys.executable, *command[1:]]


async def health_exit_code(port: int) -> int:
    process = await asyncio.create_subprocess_exec(
        *health_command(),
        env={"HOSO_WORKERS__OPS_PORT": str(port), "PATH": "/usr/bin:/bin"},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    return await asyncio.wait_for(process.wait(), timeout=30)


async def test_the_image_health_check_tells_healthy_from_sick(tmp_path: Path) -> None:
    """The HEALTHCHECK's own command line against a real /healthz: a process whose database
    answers, one whose database is away (503) and a port where nothing listens."""
    healthy = Store(make_engine(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"))
    sick = Store(make_engine("postgresql+asyncpg://root@127.0.0.1:9/nowhere"))
    ports = [free_port(), free_port()]
    runners = []
    try:
        for store, port in zip((healthy, sick), ports, strict=True):
            runner = await start_ops(
                store, host="127.0.0.1", port=port, roles={Role.TURNS}, worker="w"
            )
            assert runner is not None
            runners.append(runner)
        assert await health_exit_code(ports[0]) == 0
        assert await health_exit_code(ports[1]) != 0
        assert await health_exit_code(free_port()) != 0
    finally:
        for runner in runners:
            await runner.cleanup()
        await healthy.close()
        await sick.close()


def test_the_build_context_leaves_out_environments_data_and_secrets() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", ".git", "*.db", "exports", "admin_files", "bench/results"} <= ignored
    assert "config.toml" in ignored


def test_compose_starts_the_roles_after_the_migration() -> None:
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        pytest.skip("PyYAML is not installed (not a dependency of the project)")
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert parse_command(services["migrate"]["command"])[0] == "db upgrade"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    started: dict[Role, int] = {}
    for name, service in services.items():
        if name in ("postgres", "migrate"):
            continue
        command, params = parse_command(service["command"])
        assert command in ("run telegram", "run scheduler")
        roles = (
            {Role.SCHEDULER} if command == "run scheduler" else parse_roles(params["role"] or [])
        )
        for role in roles:
            started[role] = started.get(role, 0) + service.get("deploy", {}).get("replicas", 1)
        condition = service["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully"
        assert seconds(service["stop_grace_period"]) > GRACE
    assert started == {
        Role.INGRESS: 1,
        Role.TURNS: 2,
        Role.SENDER: 1,
        Role.SCHEDULER: 1,
        Role.OUTBOX: 1,
    }
