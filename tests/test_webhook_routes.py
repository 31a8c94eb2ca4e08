"""The merge of the log's kinds of events for a webhook: in log order, and never past what
every source has read (a full page may have more after it)."""

from __future__ import annotations

from typing import Any

from hub.webhooks.routes import Judged, merged


def _page(*seqs: int) -> list[Judged]:
    def body(cursor: str, kind: str) -> dict[str, Any]:
        return {"cursor": cursor, "type": kind}

    return [Judged(seq, "PUBLISHED", body) for seq in seqs]


def seqs(rows: list[Judged]) -> list[int]:
    return [row.seq for row in rows]


def test_pages_merge_in_log_order_up_to_the_end_of_what_was_read() -> None:
    rows, through = merged([_page(11, 14), _page(12, 13, 15)], limit=5, after=10)
    assert (seqs(rows), through) == ([11, 12, 13, 14, 15], 15)


def test_a_full_page_bounds_the_merge_at_its_last_row() -> None:
    # The first source's page is full at 13: it may hold 14 before the other's 20.
    rows, through = merged([_page(11, 12, 13), _page(20)], limit=3, after=10)
    assert (seqs(rows), through) == ([11, 12, 13], 13)


def test_nothing_read_leaves_the_position_where_it_was() -> None:
    assert merged([[], []], limit=3, after=42) == ([], 42)
