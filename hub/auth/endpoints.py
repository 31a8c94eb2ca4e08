"""The authorization server's HTTP side: `POST /oauth/token`, `/oauth/introspect`,
`/oauth/revoke`, and the two discovery documents.

Each POST is checked in the event loop (a well-formed Basic header, a form-encoded body, the
token endpoint's rate limits), then run through authlib's synchronous core in a worker thread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from authlib.oauth2.rfc6749.errors import InsecureTransportError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub.auth.audit import audit
from hub.auth.clients import ClientStore
from hub.auth.introspection import Introspection, IssuedToken
from hub.auth.keys import KeyStore
from hub.auth.limits import LimiterFactory, TokenRateLimits
from hub.auth.metadata import JWKS_CACHE_CONTROL, server_metadata
from hub.auth.oauth_request import FORM, FormRequest, basic_client_id, is_form_encoded, read_request
from hub.auth.revocation import Revocation, RevocationList
from hub.auth.token_endpoint import FORM_BODY, Server, missing_grant_type
from hub.auth.validation import InvalidToken, TokenValidator, unverified_parts
from hub.observability.metrics import HubMetrics
from hub.settings import Settings

__all__ = ["OAuthEndpoints"]

_REALM = 'Basic realm="entraide-hub"'
_TOKEN_FORM = f"the body must be form-encoded ({FORM}) with token=THE_ACCESS_TOKEN"


def _error(status: int, error: str, description: str, **headers: str) -> JSONResponse:
    """An RFC 6749 §5.2 error; never cached."""
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={"Cache-Control": "no-store", **headers},
    )


class OAuthEndpoints:
    """`POST /oauth/token`, `/oauth/introspect`, `/oauth/revoke`, and the two documents."""

    def __init__(
        self,
        settings: Settings,
        engine: AsyncEngine,
        keys: KeyStore,
        clients: ClientStore,
        revocations: RevocationList,
        validator: TokenValidator,
        metrics: HubMetrics | None = None,
        make_limiter: LimiterFactory | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.engine = engine
        self.keys = keys
        self.clients = clients
        self.revocations = revocations
        self.validator = validator
        self.clock = keys.clock
        self.limits = (
            TokenRateLimits.from_settings(settings, self.clock, make_limiter)
            if make_limiter is not None
            else TokenRateLimits.unlimited()
        )
        # Called with a revoked jti, so that every replica closes the sockets it opened.
        self.on_revoke: Callable[[str], Awaitable[None]] | None = None
        self.server = Server(settings, keys, clients, self.audited)
        self.server.register_endpoint(Introspection(self.server, self.lookup))
        self.server.register_endpoint(Revocation(self.server, self.lookup, self.revoke))

    async def aclose(self) -> None:
        await self.limits.aclose()

    # --- hooks called from the worker thread ------------------------------------------------

    async def audited(self, event: str, request: FormRequest, detail: Any) -> None:
        # When authentication failed, name the client it claimed to be.
        client = request.client.get_client_id() if request.client else request.claimed_client_id()
        await audit(self.engine, self.clock.now(), event, client, detail=detail)

    async def lookup(self, token: str) -> IssuedToken | None:
        try:
            caller = await self.validator.validate(token)
        except InvalidToken:
            return None
        _, claims = unverified_parts(token)
        return IssuedToken(caller, claims)

    async def revoke(self, token: IssuedToken, by: str | None) -> None:
        caller = token.caller
        if caller.jti is None:
            return
        await self.revocations.revoke(caller.jti, caller.client_id, caller.expires_at)
        if self.on_revoke is not None:
            await self.on_revoke(caller.jti)
        await audit(
            self.engine, self.clock.now(), "token.revoked", caller.client_id, jti=caller.jti, by=by
        )

    # --- HTTP ----------------------------------------------------------------------------

    async def _denied(self, client_id: str | None, reason: str) -> None:
        await audit(self.engine, self.clock.now(), "token.denied", client_id, detail=reason)

    async def _checked(self, request: Request, form_hint: str) -> FormRequest | Response:
        """The request for authlib, or the error that answers it before authlib sees it."""
        try:
            claimed = basic_client_id(request.headers)
        except ValueError:
            # authlib cannot parse some malformed headers; answer as RFC 6749 says.
            await self._denied(None, "malformed Basic header")
            return _error(
                401, "invalid_client", "malformed Basic credentials", **{"WWW-Authenticate": _REALM}
            )
        if not is_form_encoded(request):
            await self._denied(claimed, "body not form-encoded")
            return _error(400, "invalid_request", form_hint)
        try:
            checked = await read_request(request, self.settings.issuer)
        except InsecureTransportError:
            # The public URL is plain http on a non-loopback host: say what to fix.
            return _error(
                400,
                "invalid_request",
                "OAuth 2 needs https: set HUB_PUBLIC_URL to the hub's https address "
                "(plain http is allowed on loopback only)",
            )
        repeated = checked.repeated()
        if repeated is not None:
            await self._denied(claimed, "repeated parameter")
            return _error(400, "invalid_request", f"{repeated} is sent twice: send each once")
        return checked

    async def _run(self, call: Any, *args: Any) -> Response:
        status, body, headers = await anyio.to_thread.run_sync(call, *args)
        return JSONResponse(body, status_code=status, headers=dict(headers))

    async def _token(self, request: Request) -> Response:
        address = request.client.host if request.client else None
        try:
            claimed = basic_client_id(request.headers)
        except ValueError:
            claimed = None
        if claimed is None and is_form_encoded(request):
            posted = (await request.form()).get("client_id")
            claimed = posted if isinstance(posted, str) else None
        limited = await self.limits.check(claimed, address)
        if limited is not None:
            return _error(
                429,
                "too_many_requests",
                f"too many token requests from {limited.what}; retry in {limited.retry_after} s "
                "(a token lasts its expires_in: reuse it until then)",
                **{"Retry-After": str(limited.retry_after)},
            )
        checked = await self._checked(request, FORM_BODY)
        if isinstance(checked, Response):
            return checked
        if missing_grant_type(checked):
            await self._denied(checked.claimed_client_id(), "no grant_type")
            return _error(400, "invalid_request", FORM_BODY)
        return await self._run(self.server.create_token_response, checked)

    async def token(self, request: Request) -> Response:
        response = await self._token(request)
        if self.metrics is not None:
            self.metrics.token_response(response)
        return response

    async def introspect(self, request: Request) -> Response:
        checked = await self._checked(request, _TOKEN_FORM)
        if isinstance(checked, Response):
            return checked
        return await self._run(self.server.create_endpoint_response, "introspection", checked)

    async def revoke_endpoint(self, request: Request) -> Response:
        checked = await self._checked(request, _TOKEN_FORM)
        if isinstance(checked, Response):
            return checked
        return await self._run(self.server.create_endpoint_response, "revocation", checked)

    async def jwks(self, _request: Request) -> Response:
        await self.keys.refresh()
        return JSONResponse(self.keys.jwks(), headers={"Cache-Control": JWKS_CACHE_CONTROL})

    async def metadata(self, _request: Request) -> Response:
        return JSONResponse(server_metadata(self.settings.issuer))
