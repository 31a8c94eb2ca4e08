"""Live delivery: the event stream every replica reads, subscribers' matching, and the fan-out
of one execution to every socket of a group."""

from __future__ import annotations

from hub.live.fanout import Fanout, GroupedTransportWS
from hub.live.inbox import FellBehind, Inbox
from hub.live.matching import Matcher
from hub.live.stream import CLOSE_FELL_BEHIND, CLOSE_GOING_AWAY, CLOSE_TOKEN_ENDED, LiveEvents

__all__ = [
    "CLOSE_FELL_BEHIND",
    "CLOSE_GOING_AWAY",
    "CLOSE_TOKEN_ENDED",
    "Fanout",
    "FellBehind",
    "GroupedTransportWS",
    "Inbox",
    "LiveEvents",
    "Matcher",
]
