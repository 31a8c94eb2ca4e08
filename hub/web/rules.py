"""The HTTP rules of /graphql, applied before anything reads a body, and the refusals they answer.

Every refusal is GraphQL-shaped, `{"errors": [{"message", "extensions": {"code"}}]}`:

    code                          status  when
    UNAUTHENTICATED               401     a bad token, or no token for anything but
                                          `__typename` and introspection (hub/web/app.py)
    REQUEST_TOO_LARGE             413/414 a body (or GET query string) over HUB_MAX_BODY_BYTES,
                                          HUB_MAX_PUSH_BODY_BYTES for a missions:write client
    UNSUPPORTED_MEDIA_TYPE        415     a POST whose Content-Type is not application/json
    BATCHING_DISABLED             400     a JSON array of operations
    METHOD_NOT_ALLOWED            405     a mutation over GET
    RATE_LIMITED                  429     the client's bucket is empty (with Retry-After)
    PERSISTED_QUERY_*             200/400/403  see hub/web/persisted.py
    INTERNAL_SERVER_ERROR         500     unexpected: masked, with an errorId found in the logs
    BAD_REQUEST                   400     anything else strawberry refuses before running

The limits on the document itself (depth, aliases, tokens, cost, introspection) are the
schema's: schema/limits.py, schema/cost.py, applied by schema/hardening.py.

Cross-site request forgery: the hub reads only JSON bodies on POST. A browser cannot send
`Content-Type: application/json` across origins without a CORS preflight, so text/plain, form
and multipart bodies (the "simple requests" a hostile page can send) are refused with 415
whatever their other headers: there is no non-JSON body format for a preflight-forcing header
(`apollo-require-preflight`) to unlock. GET runs queries only, and credentials are bearer
tokens, never cookies, so a cross-site GET runs as an anonymous caller.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping

from cross_web import HTTPException
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope
from strawberry.schema.exceptions import InvalidOperationTypeError

from hub.auth.caller import WRITE, Caller
from hub.settings import Settings
from hub.web.persisted import PersistedQueryError
from hub.web.ratelimit import retry_after

__all__ = ["HttpRefusal", "RequestRules", "internal_error", "rate_key"]

logger = logging.getLogger("hub.graphql")


class HttpRefusal(Exception):
    """An HTTP request the hub will not run, answered with a GraphQL-shaped body."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    @classmethod
    def of(cls, exc: HttpRefusal | PersistedQueryError | HTTPException) -> HttpRefusal:
        """The hub's refusals, and strawberry's own (plain text there), in one shape."""
        if isinstance(exc, HttpRefusal):
            return exc
        if isinstance(exc, PersistedQueryError):
            return cls(exc.status, exc.code, exc.message)
        if isinstance(exc.__cause__, InvalidOperationTypeError):
            # GraphQL over HTTP: a mutation over GET is 405, and POST is the way.
            return cls(405, "METHOD_NOT_ALLOWED", f"{exc.reason}: use POST", {"Allow": "POST"})
        code = {405: "METHOD_NOT_ALLOWED", 415: "UNSUPPORTED_MEDIA_TYPE"}.get(
            exc.status_code, "BAD_REQUEST"
        )
        return cls(exc.status_code, code, exc.reason)

    @classmethod
    def rate_limited(cls, wait: float) -> HttpRefusal:
        seconds = retry_after(wait)
        return cls(
            429,
            "RATE_LIMITED",
            f"too many requests from this client; retry in {seconds} s",
            {"Retry-After": str(seconds)},
        )

    @classmethod
    def unauthenticated(cls, message: str, *, token_sent: bool) -> HttpRefusal:
        """RFC 6750: 401 with WWW-Authenticate, naming the error only when a token was sent."""
        challenge = "Bearer"
        if token_sent:
            description = message.replace('"', "'")
            challenge = f'Bearer error="invalid_token", error_description="{description}"'
        return cls(401, "UNAUTHENTICATED", message, {"WWW-Authenticate": challenge})

    def response(self) -> Response:
        return JSONResponse(
            {"errors": [{"message": self.message, "extensions": {"code": self.code}}]},
            status_code=self.status,
            headers={"Cache-Control": "no-store", **self.headers},
        )


class RequestRules:
    """What a request must look like before anything reads its body: size and content type.

    Partners push batches of up to a thousand missions in one mutation's variables: a client
    holding missions:write may send larger bodies; its document is bounded all the same.
    """

    def __init__(self, settings: Settings) -> None:
        self.max_body_bytes = settings.max_body_bytes
        self.max_push_body_bytes = max(settings.max_push_body_bytes, settings.max_body_bytes)

    def check(self, scope: Scope, receive: Receive, caller: Caller | None) -> Receive:
        """Refuse a bad request at once; return a `receive` that refuses an oversized body."""
        limit = self.max_body_bytes
        if caller is not None and caller.has(WRITE):
            limit = self.max_push_body_bytes
        if scope["method"] == "GET":
            if len(scope.get("query_string", b"")) > limit:
                raise HttpRefusal(
                    414, "REQUEST_TOO_LARGE", f"the query string is over {limit} bytes"
                )
            return receive
        if scope["method"] != "POST":
            return receive
        headers = Headers(scope=scope)
        media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
        if media_type != "application/json":
            raise HttpRefusal(
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                "POST bodies must be JSON (Content-Type: application/json); "
                f"{media_type or 'a body without a Content-Type'} is refused "
                "(cross-site request forgery prevention)",
                {"Accept": "application/json"},
            )
        length = headers.get("content-length")
        if length is not None:
            if not length.strip().isdigit():
                raise HttpRefusal(400, "BAD_REQUEST", "malformed Content-Length header")
            if int(length) > limit:
                raise HttpRefusal(413, "REQUEST_TOO_LARGE", f"the body is over {limit} bytes")
        return _bounded(receive, limit)


def _bounded(receive: Receive, limit: int) -> Receive:
    """Count a body as it arrives (chunked bodies name no length) and stop past the limit."""
    seen = 0

    async def bounded_receive() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise HttpRefusal(413, "REQUEST_TOO_LARGE", f"the body is over {limit} bytes")
        return message

    return bounded_receive


def internal_error(exc: Exception) -> Response:
    """An unexpected failure outside a resolver: masked, logged with an id to quote."""
    error_id = uuid.uuid4().hex[:16]
    logger.error("unexpected error %s serving a GraphQL request", error_id, exc_info=exc)
    body = {
        "errors": [
            {
                "message": f"Unexpected error; quote error id {error_id} to the hub's operators.",
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "errorId": error_id},
            }
        ]
    }
    return JSONResponse(body, status_code=500)


def rate_key(scope: Scope, caller: Caller | None) -> str:
    """Whose bucket a request takes from: its client, or its address when anonymous."""
    if caller is not None:
        return f"client:{caller.client_id}"
    client = scope.get("client")
    return f"ip:{client[0] if client else 'unknown'}"
