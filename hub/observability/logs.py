"""Log lines, JSON or text, each carrying the id of the request it belongs to.

The server logs one JSON object a line (`serve`, or HUB_LOG_FORMAT=json); the command line's
own output is text for people. A request's id is the `X-Request-ID` it came with, when that
is a sane token, or a new one; it is sent back in the response's `X-Request-ID` header, so a
client can quote it, and every line logged while the request runs carries it.

    {"time": "2026-11-27T06:03:05.933Z", "level": "INFO", "logger": "uvicorn.access",
     "message": "127.0.0.1:50412 - \\"POST /graphql HTTP/1.1\\" 200", "request_id": "4bf9..."}
"""

from __future__ import annotations

import contextvars
import itertools
import logging
import re
import secrets
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.observability import tracing

__all__ = [
    "JsonFormatter",
    "RequestIdMiddleware",
    "TextFormatter",
    "configure_logging",
    "request_id",
]

HEADER = b"x-request-id"
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "hub_request_id", default=None
)
# A new request's id, 32 hex digits as a uuid4's were: this process's random prefix and a
# count, unique without a uuid4 per request (3.5 µs against 0.5: a few percent of the CPU of a
# cached answer).
_PROCESS = secrets.token_hex(6)
_COUNT = itertools.count(1)
# Accepted from clients as they are: what a proxy or a tracing system would send.
_SANE = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
# The attributes every LogRecord has; anything else came in `extra=` and is logged as a field.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "rid",
    "taskName",
    "color_message",  # uvicorn's coloured copy of its message
}


def request_id() -> str | None:
    """The id of the request being served, if any."""
    return _request_id.get()


class RequestIdMiddleware:
    """Pure ASGI: reads or makes the request id, keeps it for the request's log lines, and
    returns it in the response (HTTP) or the handshake's answer (WebSocket)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope.get("headers") or () if k == HEADER), b"")
        given_text = given.decode("latin-1").strip()
        rid = given_text if _SANE.fullmatch(given_text) else f"{_PROCESS}{next(_COUNT):020x}"
        scope.setdefault("state", {})["request_id"] = rid
        header = (HEADER, rid.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                headers = [(k, v) for k, v in message.get("headers") or [] if k.lower() != HEADER]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        token = _request_id.set(rid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _request_id.reset(token)


class _Context(logging.Filter):
    """Stamps each record with the request (and trace) it was logged in, at emit time."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        ids = tracing.current_ids()
        if ids is not None:
            record.trace_id, record.span_id = ids
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id, exception, extras."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        line: dict[str, Any] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None)
        if rid:
            line["request_id"] = rid
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            client, method, path, _version, status = args  # fields to query on
            line.update(client=client, method=method, path=path, status=status)
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    """`time LEVEL logger [request id] message`, for people at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(rid)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None)
        record.rid = f" [{rid}]" if rid else ""
        return super().format(record)


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever sys.stderr is when a line is logged (tests swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr  # emit runs under the handler's lock
        super().emit(record)


def configure_logging(level: str, fmt: Literal["json", "text"]) -> None:
    """Send the hub's (and uvicorn's) logs to stderr in `fmt`; calling it again replaces it."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(_Context())
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn's loggers propagate to the root: one format for every line.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # alembic announces each of its plugins at INFO on every start.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
