"""One person, two channels (issue #8): a teacher linked on Telegram and on Zalo works on one
record. She starts on Telegram, continues on Zalo right after the last field she answered, and
an old Telegram button pressed afterwards cannot overwrite what she answered on Zalo."""

from __future__ import annotations

from datetime import timedelta

from flows.channel import Inbound, Outbound
from flows.inputs import Input, Start, Tap
from flows.state import State
from tests.scenario_runner import NOW
from tests.zalo_runner import USER, ZaloRun, zalo_run

TELEGRAM_CHAT = "4242"


def keys(replies: list[Outbound]) -> list[str]:
    return [r.key for r in replies]


async def on_telegram(run: ZaloRun, inp: Input) -> list[Outbound]:
    run.updates = getattr(run, "updates", 0) + 1
    message = Inbound("telegram", TELEGRAM_CHAT, f"tg-{run.updates}", inp)
    return await run.engine.handle(message)


async def state_of(run: ZaloRun, channel: str, external_id: str) -> State:
    async with run.store.unit_of_work() as uow:
        account = await uow.accounts.get_or_create(channel, external_id, at=NOW)
        return State.from_json((await uow.conversations.load(account.id)).state)


async def answers(run: ZaloRun, person: int) -> dict[str, tuple[str | None, str]]:
    async with run.store.unit_of_work() as uow:
        draft = await uow.changes.draft(person)
    return {key: (a.new_value, a.how) for key, a in draft.items()}


async def test_a_teacher_continues_on_zalo_where_she_stopped_on_telegram(
    database_url: str,
) -> None:
    async with zalo_run(database_url) as run:
        await run.seed({"people": ["teacher"], "link": False})
        teacher = run.person_ids["teacher"]
        await run.engine.link("telegram", TELEGRAM_CHAT, teacher, role="self", proof="test")
        await run.engine.link("zalo", USER, teacher, role="self", proof="test")

        assert keys(await on_telegram(run, Start())) == ["consent"]
        assert keys(await on_telegram(run, Tap("consent:yes"))) == ["progress", "confirm_field"]
        for _ in range(3):  # họ tên, ngày sinh, giới tính
            await on_telegram(run, Tap("ok"))
        assert (await state_of(run, "telegram", TELEGRAM_CHAT)).field == "dan_toc"

        run.now += timedelta(minutes=5)  # later, on her phone's Zalo
        assert keys(await run.say("Xin chào")) == ["consent"]  # consent is per account
        replies = await run.tap("Đồng ý")
        assert keys(replies) == ["progress", "confirm_field"]
        assert "Dân tộc: Kinh" in replies[-1].text  # the field after the last one answered
        assert (await state_of(run, "zalo", USER)).field == "dan_toc"
        assert keys(await run.tap("Sửa")) == ["ask_new_value"]
        assert keys(await run.say("Hoa")) == ["confirm_field"]
        assert (await state_of(run, "zalo", USER)).field == "ton_giao"

        run.now += timedelta(minutes=5)  # back on Telegram: «Đúng» under «Dân tộc: Kinh»
        stale = await on_telegram(run, Tap("ok"))
        assert keys(stale) == ["progress", "confirm_field"]
        assert "Tôn giáo: Không" in stale[-1].text
        assert (await state_of(run, "telegram", TELEGRAM_CHAT)).field == "ton_giao"
        saved = await answers(run, teacher)
        assert saved["dan_toc"] == ("Hoa", "corrected")  # not overwritten by the old button
        assert sorted(saved) == sorted(["ho_ten", "ngay_sinh", "gioi_tinh", "dan_toc"])

        # Her Telegram chat goes on normally from there; Zalo then catches up the same way.
        assert keys(await on_telegram(run, Tap("ok"))) == ["confirm_field"]
        run.now += timedelta(minutes=5)
        assert keys(await run.tap("Đúng")) == ["progress", "confirm_field"]
        assert (await answers(run, teacher))["ton_giao"] == ("Không", "confirmed")
