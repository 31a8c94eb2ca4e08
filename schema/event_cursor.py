"""Event cursors: a log position, base64-encoded; a plain position is accepted too."""

from __future__ import annotations

import base64
import binascii

from hub.errors import BadCursor

__all__ = ["decode_event_cursor", "encode_event_cursor"]


def encode_event_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"evt:{seq}".encode()).decode().rstrip("=")


def decode_event_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, seq = raw.partition(":")
        if kind != "evt" or not seq.isdigit():
            raise ValueError(raw)
        return int(seq)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        # A plain log position (a search's eventCursor) is accepted too.
        if cursor.isdigit():
            return int(cursor)
        raise BadCursor("after: malformed event cursor") from exc
