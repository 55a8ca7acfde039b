"""Runs a scripted conversation (``tests/scenarios/*.toml``) through the console adapter, the real
engine and a real database, and checks replies turn by turn and the database at the end.

A scenario file:
    description = "..."
    people = ["teacher"]                 # records of fixtures/records.toml, linked to the account
    role = "self"                         # or "guardian"
    [override.teacher] so_dien_thoai = "01695678945"
    [[turn]]
    send = "/start"                       # a typed line; or tap = "Đúng" (a label of the last
                                          # buttons shown); or payload = "submit" (a raw button
                                          # press, as a stale button would send); or restart =
                                          # true (a new process on the same database); or
                                          # duplicate = true (the previous update delivered again)
    times = 3                             # repeat the same input; every turn but the last must
    each = ["confirm_field"]              # answer exactly `each`
    expect = ["consent"]                  # the message keys of the (last) turn's replies
    buttons = ["Đồng ý", "Không đồng ý"]  # the buttons of its last reply, when given
    codes = ["CCCD_LENGTH"]               # codes of its "invalid"/"conflict" replies, when given
    field = "so_dien_thoai"               # the field the conversation is on afterwards
    [[invite]] person = "teacher"; code = "K7QX2-MZ9PD"; days = 30; used = false; failed = 0
    [[admin_invite]] code = "QT7X2-MZ9PD"; unit = "79000701"; role = "school_admin"; hours = 72
                     used = false             # an admin invitation (hoso grant-admin --link)
    admin = "79000701"                    # the account administers this unit from the start
    [[request]] person = "teacher"; kind = "delete"; days_ago = 20   # a /huy request (no chat)
    [end]
    change_sets = ["submitted"]; outbox = 1
    consent = "given"                     # or "refused" or "none": the account's stored consent
                                          # ("given" also needs both notice versions stored)
    admin = ["79000701"]                  # the units the account administers at the end
    request_status = ["done", "refused"]  # every data request's status, by id
    [end.answers] so_dien_thoai = { new = "0912345678", how = "corrected" }
Leftover or unexpected replies fail the test: every turn states its replies.
"""

from __future__ import annotations

import io
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.config.settings import Settings
from bot.engine.core import Engine
from bot.engine.reference import load_reference
from bot.identity.invitations import code_hash, installation_pepper
from bot.importing.rows import record_phones
from flows.channel import Inbound, Outbound
from flows.inputs import Contact, Tap
from flows.state import State
from handlers.console import ConsoleSession, to_input
from storage.db import make_engine
from storage.uow import Store, UnitOfWork

HERE = Path(__file__).parent / "scenarios"
NOW = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)  # 09:00 in Hồ Chí Minh City
EXTERNAL_ID = "scenario-user"


def scenario_files() -> list[Path]:
    return sorted(HERE.glob("*.toml"), key=lambda p: p.name)


def load(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def counter() -> Callable[[], str]:
    state = {"n": 0}

    def next_id() -> str:
        state["n"] += 1
        return f"turn-{state['n']:04d}"

    return next_id


@dataclass
class Run:
    """One scenario in progress: the process (engine) can be replaced to simulate a restart."""

    url: str
    settings: Settings
    ids: Callable[[], str] = field(default_factory=counter)
    store: Store | None = None
    session: ConsoleSession | None = None
    last: Inbound | None = None
    person_ids: dict[str, int] = field(default_factory=dict)
    now: datetime = NOW
    #: The (channel, external id) of the scenario's account, as the channel runner names it.
    account: tuple[str, str] = ("console", EXTERNAL_ID)

    async def boot(self) -> ConsoleSession:
        if self.store is not None:
            await self.store.close()
        self.store = Store(make_engine(self.url))
        engine = Engine(
            self.store, self.settings, load_reference(self.settings.catalogue),
            clock=lambda: self.now, ids=self.ids,
        )  # fmt: skip
        previous = self.session
        self.session = ConsoleSession(self._recorder(engine), EXTERNAL_ID, io.StringIO())
        if previous is not None:
            self.session.session, self.session.count = previous.session, previous.count
        self.engine = engine
        return self.session

    def _recorder(self, engine: Engine) -> Callable[[Inbound], Any]:
        async def handle(message: Inbound) -> list[Outbound]:
            self.last = message
            return await engine.handle(message)

        return handle

    async def close(self) -> None:
        if self.store is not None:
            await self.store.close()


async def seed(run: Run, script: dict[str, Any]) -> None:
    records = load(HERE.parent / "fixtures" / "records.toml")
    assert run.store is not None
    async with run.store.unit_of_work() as uow:
        await uow.units.ensure("79000701", "Trường THPT Nguyễn Du", "school")
        for name in script["people"]:
            record = records[name]
            values = {**record["values"], **script.get("override", {}).get(name, {})}
            values = {k: (None if v == "" else v) for k, v in values.items()}
            if record["unit"] != "79000701":
                await uow.units.ensure(
                    record["unit"], record["unit"], "class", parent_code="79000701"
                )
            run.person_ids[name] = await uow.people.add(
                kind=record["kind"], ma_dinh_danh=record["ma_dinh_danh"], unit_code=record["unit"],
                values=values, phones=record_phones(record["kind"], values), at=NOW,
            )  # fmt: skip
        await invite(uow, run, script.get("invite", []))
        await admin_invite(uow, script.get("admin_invite", []))
        await requests(uow, run, script.get("request", []))
        if "admin" in script:
            channel, external_id = run.account
            account = await uow.accounts.get_or_create(channel, external_id, at=NOW)
            await uow.scopes.grant(account.id, script["admin"], role="school_admin", at=NOW)
        await uow.commit()
    if not script.get("link", True):
        return
    for name in script["people"]:
        await run.engine.link(
            "console", EXTERNAL_ID, run.person_ids[name],
            role=script.get("role", "self"), proof="test",
        )  # fmt: skip


async def invite(uow: UnitOfWork, run: Run, invitations: list[dict[str, Any]]) -> None:
    """``[[invite]] person = "teacher", code = "K7QX2-MZ9PD", days = 30, used = false, failed = 0``
    (``failed``: wrong proofs already counted against the code)."""
    pepper = await installation_pepper(uow, at=NOW)
    for spec in invitations:
        invitation_id = await uow.invitations.create(
            run.person_ids[spec["person"]],
            role=spec.get("role", "self"),
            code_hash=code_hash(spec["code"], pepper),
            expires_at=NOW + timedelta(days=spec.get("days", 30)),
            at=NOW,
        )
        if spec.get("used"):
            await uow.invitations.use(invitation_id, None, at=NOW)
        for _ in range(int(spec.get("failed", 0))):
            await uow.invitations.record_failure(invitation_id)


async def admin_invite(uow: UnitOfWork, invitations: list[dict[str, Any]]) -> None:
    """``[[admin_invite]] code = "QT7X2-MZ9PD", unit = "79000701", role = "school_admin",
    hours = 72, used = false`` (``hours`` < 0: already expired)."""
    pepper = await installation_pepper(uow, at=NOW)
    for spec in invitations:
        unit = spec.get("unit", "79000701")
        [found] = [u for u in await uow.roster.units_under(unit) if u.code == unit]
        invitation_id = await uow.admin_invitations.create(
            found.id, role=spec.get("role", "school_admin"),
            code_hash=code_hash(spec["code"], pepper),
            expires_at=NOW + timedelta(hours=spec.get("hours", 72)), at=NOW - timedelta(hours=200),
        )  # fmt: skip
        if spec.get("used"):
            other = await uow.accounts.get_or_create("console", "another-admin", at=NOW)
            await uow.admin_invitations.use(invitation_id, other.id, at=NOW - timedelta(hours=100))


async def requests(uow: UnitOfWork, run: Run, specs: list[dict[str, Any]]) -> None:
    """``[[request]] person = "teacher", kind = "delete", days_ago = 20``: a /huy request with
    the legal deadlines (2 and 15 days), from an account that no longer has a chat."""
    for spec in specs:
        at = NOW - timedelta(days=spec.get("days_ago", 0))
        await uow.requests.add(
            account_id=None, person_id=run.person_ids[spec["person"]], kind=spec["kind"], at=at,
            acknowledge_by=at + timedelta(days=2), complete_by=at + timedelta(days=15),
        )  # fmt: skip


async def send(run: Run, turn: dict[str, Any]) -> list[Outbound]:
    session = run.session
    assert session is not None
    if turn.get("restart"):
        session = await run.boot()
        return []
    if turn.get("duplicate"):
        assert run.last is not None, "duplicate = true needs an earlier turn"
        return await run.engine.handle(run.last)
    if "advance_minutes" in turn:
        run.now += timedelta(minutes=turn["advance_minutes"])
    if "contact" in turn:
        return await session.send(Contact(turn["contact"], verified=turn.get("verified", True)))
    if "payload" in turn:
        return await session.send(Tap(turn["payload"]))
    if "tap" in turn:
        labels = [b.label for b in session.buttons]
        assert turn["tap"] in labels, f"no button {turn['tap']!r} among {labels}"
        return await session.send(to_input(turn["tap"], session.buttons))
    return await session.send(to_input(turn["send"], session.buttons))


def check_replies(
    where: str, replies: list[Outbound], turn: dict[str, Any], keys: list[str]
) -> None:
    got = [r.key for r in replies]
    assert got == keys, f"{where}: replies {got}, expected {keys}"
    if "buttons" in turn:
        shown = [b.label for b in replies[-1].buttons] if replies else []
        assert shown == turn["buttons"], f"{where}: buttons {shown}, expected {turn['buttons']}"
    for needle in turn.get("contains", []):
        assert any(needle in r.text for r in replies), f"{where}: no reply contains {needle!r}"
    for needle in turn.get("absent", []):
        assert all(needle not in r.text for r in replies), f"{where}: a reply shows {needle!r}"
    if "codes" in turn:
        codes = [r.code for r in replies if r.code is not None]
        assert codes == turn["codes"], f"{where}: codes {codes}, expected {turn['codes']}"


async def current_state(run: Run) -> State:
    assert run.store is not None
    async with run.store.unit_of_work() as uow:
        account = await uow.accounts.get_or_create("console", EXTERNAL_ID, at=NOW)
        return State.from_json((await uow.conversations.load(account.id)).state)


async def play(run: Run, script: dict[str, Any]) -> None:
    for index, turn in enumerate(script["turn"], start=1):
        where = (
            f"turn {index} ({turn.get('send') or turn.get('tap') or turn.get('payload') or turn})"
        )
        times = int(turn.get("times", 1))
        for repeat in range(times):
            replies = await send(run, turn)
            last = repeat == times - 1
            expected = turn.get("expect", []) if last else turn.get("each", turn.get("expect", []))
            check_replies(f"{where} #{repeat + 1}", replies, turn if last else {}, expected)
        if "field" in turn:
            state = await current_state(run)
            assert state.field == turn["field"], (
                f"{where}: on field {state.field}, expected {turn['field']}"
            )


async def linked_names(run: Run) -> list[str]:
    assert run.store is not None
    async with run.store.unit_of_work() as uow:
        account = await uow.accounts.get_or_create("console", EXTERNAL_ID, at=NOW)
        ids = {link.person_id for link in await uow.accounts.links(account.id)}
    return sorted(name for name, pid in run.person_ids.items() if pid in ids)


async def request_kinds(run: Run) -> list[str]:
    assert run.store is not None
    async with run.store.unit_of_work() as uow:
        account = await uow.accounts.get_or_create("console", EXTERNAL_ID, at=NOW)
        return [kind for kind, _ in await uow.requests.open_kinds(account.id)]


async def check_end(run: Run, script: dict[str, Any]) -> None:
    end = script.get("end", {})
    assert run.store is not None
    person = run.person_ids[script["people"][0]]
    async with run.store.unit_of_work() as uow:
        sets = await uow.changes.sets_of(person)
        outbox = await uow.outbox.counts()
    if "change_sets" in end:
        assert [s.status for s in sets] == end["change_sets"]
    if "outbox" in end:
        assert sum(outbox.values()) == end["outbox"]
    if "answers" in end:
        answers = {a.field: a for a in sets[-1].changes} if sets else {}
        for key, want in end["answers"].items():
            assert key in answers, f"no answer for {key}"
            got = {"new": answers[key].new_value, "how": answers[key].how}
            wanted = {k: (None if want[k] == "" else want[k]) for k in got if k in want}
            assert got == wanted, f"{key}: {got} != {wanted}"
    if "linked" in end:
        assert await linked_names(run) == sorted(end["linked"])
    if "requests" in end:
        assert await request_kinds(run) == end["requests"]
    if "consent" in end:
        await check_consent(run, end["consent"])
    if "admin" in end:
        assert await admin_units(run) == sorted(end["admin"])
    if "request_status" in end:
        assert await request_statuses(run) == end["request_status"]
    if "confirmed" in end:
        confirmed = [a.field for a in sets[-1].changes if a.how == "confirmed"]
        assert len(confirmed) == end["confirmed"], f"confirmed {len(confirmed)}"


async def admin_units(run: Run) -> list[str]:
    """The codes of the units the scenario's account administers directly."""
    assert run.store is not None
    channel, external_id = run.account
    async with run.store.unit_of_work() as uow:
        account = await uow.accounts.get_or_create(channel, external_id, at=NOW)
        ids = await uow.scopes.admin_units(account.id)
        units = await uow.roster.units_under("79000701")
    return sorted(u.code for u in units if u.id in ids and u.kind != "class")


async def request_statuses(run: Run) -> list[str]:
    assert run.store is not None
    async with run.store.unit_of_work() as uow:
        units = await uow.roster.units_under("79000701")
        rows = await uow.request_desk.in_units([u.id for u in units], open_only=False)
    return [r.status for r in sorted(rows, key=lambda r: r.id)]


async def check_consent(run: Run, wanted: str) -> None:
    """The account's stored consent: "given", "refused" or "none" (never answered)."""
    assert run.store is not None
    channel, external_id = run.account
    async with run.store.unit_of_work() as uow:
        account = await uow.accounts.get_or_create(channel, external_id, at=NOW)
        notice = await uow.accounts.consent_notice(account.id)
    got = {None: "none", True: "given", False: "refused"}[account.consent_given]
    assert got == wanted, f"consent {got}, expected {wanted}"
    if wanted == "given":
        assert notice.short_version, f"notice versions {notice}"
        assert notice.full_version, f"notice versions {notice}"
