"""What the fan-out reads of a member on every event, without a call: whether its inbox is quiet
(nothing queued, not fallen behind), and the prefix its frames start with, shared by identity
between members with the same operation id."""

from __future__ import annotations

import asyncio

import pytest

from hub.live.inbox import FellBehind, Inbox
from hub.live.member import Member
from tests.servers import until


def test_an_inbox_is_quiet_only_while_nothing_waits_and_it_has_not_fallen_behind() -> None:
    async def scenario() -> list[bool]:
        inbox: Inbox[str] = Inbox(2)
        seen = [inbox.quiet]  # new: quiet
        inbox.offer("a")
        inbox.offer("b")
        seen.append(inbox.quiet)  # two waiting
        assert await inbox.get() == "a"
        seen.append(inbox.quiet)  # one still waiting
        assert await inbox.get() == "b"
        seen.append(inbox.quiet)  # drained
        for item in "cde":  # the third overflows a size-2 inbox
            inbox.offer(item)
        seen.append(inbox.quiet)  # fell behind: never quiet again
        with pytest.raises(FellBehind):
            await inbox.get()
        seen.append(inbox.quiet)
        return seen

    assert asyncio.run(scenario()) == [True, False, False, True, False, False]


def test_a_member_is_idle_only_while_its_writer_runs_and_its_inbox_is_quiet() -> None:
    async def scenario() -> list[bool]:
        member = Member("1", Inbox(4))
        seen = [member.idle]  # no writer yet
        sent: list[str] = []

        async def send(message: str) -> None:
            sent.append(message)

        pump = asyncio.create_task(member.pump(send))
        await until(lambda: member.send is not None, "the member's writer to start")
        seen.append(member.idle)
        member.inbox.offer("queued")  # something waiting: not idle until it is sent
        seen.append(member.idle)
        await until(lambda: sent == ["queued"], "the queued frame to be sent")
        seen.append(member.idle)
        member.inbox.overflow()
        seen.append(member.idle)
        with pytest.raises(FellBehind):
            await pump
        return seen

    assert asyncio.run(scenario()) == [False, True, False, True, False]


def test_members_with_the_same_operation_id_share_one_prefix_object() -> None:
    one, two, other = (Member(i, Inbox(1)) for i in ("1", "1", "other"))
    assert one.prefix is two.prefix  # built separately, interned
    assert one.prefix == '{"id":"1","type":"next","payload":'
    assert other.prefix is not one.prefix
