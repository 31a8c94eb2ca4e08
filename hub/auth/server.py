"""The authorization server: authlib's synchronous core, run in a worker thread.

authlib decides (client authentication, grant, scope, RFC 6749 errors, RFC 7662 and 7009
endpoints); the hub supplies its hooks. Hooks that need the database call back into the event
loop with `anyio.from_thread.run`, so the loop never blocks on argon2 or on authlib.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import anyio
import anyio.from_thread
from authlib.oauth2.rfc6749 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749.errors import InsecureTransportError
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import OAuth2Payload
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from joserfc.jwk import KeySet
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub.auth.caller import SCOPES, Caller, ClientKind
from hub.auth.clients import ClientStore, OAuthClient
from hub.auth.keys import ALGORITHM, KeyStore
from hub.auth.tokens import (
    InvalidToken,
    RevocationList,
    TokenValidator,
    audit,
    unverified_parts,
)
from hub.observability.metrics import HubMetrics
from hub.settings import Settings

__all__ = ["OAuthEndpoints", "issue_token"]

logger = logging.getLogger("hub.auth")


class _FormPayload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._data = dict(items)
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in items:
            self._datalist[key].append(value)

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class _Request(OAuth2Request):  # type: ignore[misc]
    """A Starlette request as authlib reads it: method, URI, headers and the form, read ahead."""

    def __init__(
        self, method: str, uri: str, headers: Mapping[str, str], form: list[tuple[str, str]]
    ) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self.payload = _FormPayload(form)
        self._form = dict(form)

    @property
    def args(self) -> dict[str, str]:
        return {}

    @property
    def form(self) -> dict[str, str]:
        return self._form


@dataclass
class _IssuedToken:
    """A live token as the RFC 7662 and 7009 endpoints see it."""

    caller: Caller
    claims: dict[str, Any]

    def check_client(self, client: OAuthClient) -> bool:
        record = client.record
        return record.id == self.caller.client_id or record.kind is ClientKind.ADMIN

    def is_expired(self) -> bool:
        return False  # validated before: an expired token is not found at all

    def is_revoked(self) -> bool:
        return False


class _TokenGenerator(JWTBearerTokenGenerator):  # type: ignore[misc]
    def __init__(self, settings: Settings, keys: KeyStore) -> None:
        super().__init__(
            issuer=settings.issuer,
            alg=ALGORITHM,
            expires_generator=lambda client, grant_type: settings.token_ttl_seconds,
        )
        self._keys = keys
        self._audience = settings.audience
        self._ttl = settings.token_ttl_seconds

    def get_jwks(self) -> KeySet:
        return self._keys.signing_set()

    def get_audiences(self, client: Any, user: Any, scope: Any) -> str:
        return self._audience

    def get_extra_claims(self, client: Any, grant_type: str, user: Any, scope: Any) -> Any:
        # authlib reads the wall clock; these replace its iat and exp with the hub's clock.
        now = self._keys.clock.timestamp()
        return {"iat": now, "exp": now + self._ttl}


def issue_token(
    settings: Settings, keys: KeyStore, client: OAuthClient, scope: str | None = None
) -> str:
    """Mint an access token without the HTTP round trip (the demo prints one), through the same
    generator as the token endpoint."""
    token = _TokenGenerator(settings, keys)(
        grant_type="client_credentials",
        client=client,
        scope=client.get_allowed_scope(scope),
        include_refresh_token=False,
    )
    return str(token["access_token"])


class _ClientCredentials(ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


def _basic_client_id(headers: Mapping[str, str]) -> str | None:
    """The client id of a well-formed Basic header; None when absent. Raises on a bad one."""
    value = headers.get("authorization")
    if not value or not value.lower().startswith("basic"):
        return None
    try:
        decoded = base64.b64decode(value[5:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("malformed Basic credentials") from exc
    client_id, colon, _ = decoded.partition(":")
    if not colon or not client_id:
        raise ValueError("malformed Basic credentials")
    return unquote(client_id)


class _Server(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, endpoints: OAuthEndpoints) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.endpoints = endpoints

    def query_client(self, client_id: str) -> OAuthClient | None:
        record = anyio.from_thread.run(self.endpoints.clients.get, client_id)
        return OAuthClient(record) if record is not None else None

    def save_token(self, token: dict[str, Any], request: _Request) -> None:
        anyio.from_thread.run(self.endpoints.audited, "token.issued", request, token.get("scope"))

    def create_oauth2_request(self, request: _Request) -> _Request:
        return request  # built ahead, in the event loop, from the Starlette request

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> tuple[int, Any, list[tuple[str, str]]]:
        return status, body, headers

    def handle_error_response(self, request: _Request, error: Any) -> Any:
        anyio.from_thread.run(
            self.endpoints.audited, "token.denied", request, getattr(error, "error", str(error))
        )
        return super().handle_error_response(request, error)


class _Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def __init__(self, server: _Server) -> None:
        super().__init__(server)
        self.endpoints = server.endpoints

    def query_token(self, token_string: str, token_type_hint: str | None) -> _IssuedToken | None:
        return anyio.from_thread.run(self.endpoints.lookup, token_string)

    def check_permission(self, token: _IssuedToken, client: OAuthClient, request: Any) -> bool:
        return token.check_client(client)

    def introspect_token(self, token: _IssuedToken) -> dict[str, Any]:
        claims = token.claims
        return {
            "active": True,
            "client_id": token.caller.client_id,
            "scope": " ".join(sorted(token.caller.scopes)),
            "token_type": "Bearer",
            "exp": claims.get("exp"),
            "iat": claims.get("iat"),
            "iss": claims.get("iss"),
            "aud": claims.get("aud"),
            "sub": claims.get("sub"),
            "jti": claims.get("jti"),
        }


class _Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def __init__(self, server: _Server) -> None:
        super().__init__(server)
        self.endpoints = server.endpoints

    def query_token(self, token_string: str, token_type_hint: str | None) -> _IssuedToken | None:
        return anyio.from_thread.run(self.endpoints.lookup, token_string)

    def revoke_token(self, token: _IssuedToken, request: _Request) -> None:
        anyio.from_thread.run(self.endpoints.revoke, token, request)


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
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.engine = engine
        self.keys = keys
        self.clients = clients
        self.revocations = revocations
        self.validator = validator
        self.clock = keys.clock
        # Called with a revoked jti, so that every replica closes the sockets it opened.
        self.on_revoke: Callable[[str], Awaitable[None]] | None = None
        self.server = _Server(self)
        self.server.register_grant(_ClientCredentials)
        self.server.register_token_generator("default", _TokenGenerator(settings, keys))
        self.server.register_endpoint(_Introspection(self.server))
        self.server.register_endpoint(_Revocation(self.server))

    # --- hooks called from the worker thread ------------------------------------------------

    async def audited(self, event: str, request: _Request, detail: Any) -> None:
        if request.client:
            client = request.client.get_client_id()
        else:  # authentication failed: name the client it claimed to be
            client = request.form.get("client_id") or _basic_client_id(request.headers)
        await audit(self.engine, self.clock.now(), event, client, detail=detail)

    async def lookup(self, token: str) -> _IssuedToken | None:
        try:
            caller = await self.validator.validate(token)
        except InvalidToken:
            return None
        _, claims = unverified_parts(token)
        return _IssuedToken(caller, claims)

    async def revoke(self, token: _IssuedToken, request: _Request) -> None:
        if token.caller.jti is None:
            return
        await self.revocations.revoke(
            token.caller.jti, token.caller.client_id, token.caller.expires_at
        )
        if self.on_revoke is not None:
            await self.on_revoke(token.caller.jti)
        await audit(
            self.engine,
            self.clock.now(),
            "token.revoked",
            token.caller.client_id,
            jti=token.caller.jti,
            by=request.client.get_client_id() if request.client else None,
        )

    # --- HTTP ----------------------------------------------------------------------------

    async def _oauth_request(self, request: Request) -> _Request:
        form = await request.form()
        items = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
        uri = self.settings.issuer + request.url.path
        # Starlette's Headers, not a dict: authlib asks for "Authorization" in that case.
        return _Request(request.method, uri, request.headers, items)

    @staticmethod
    def _response(result: tuple[int, Any, list[tuple[str, str]]]) -> Response:
        status, body, headers = result
        return JSONResponse(body, status_code=status, headers=dict(headers))

    async def _run(self, request: Request, call: Any, *args: Any) -> Response:
        try:
            _basic_client_id(request.headers)
        except ValueError:
            # authlib cannot parse some malformed headers; answer as RFC 6749 says.
            await audit(
                self.engine, self.clock.now(), "token.denied", None, detail="malformed Basic header"
            )
            return JSONResponse(
                {"error": "invalid_client", "error_description": "malformed Basic credentials"},
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="entraide-hub"'},
            )
        try:
            oauth_request = await self._oauth_request(request)
        except InsecureTransportError:
            # The public URL is plain http on a non-loopback host: say what to fix.
            return JSONResponse(
                {
                    "error": "invalid_request",
                    "error_description": "OAuth 2 needs https: set HUB_PUBLIC_URL to the hub's "
                    "https address (plain http is allowed on loopback only)",
                },
                status_code=400,
            )
        result = await anyio.to_thread.run_sync(call, *args, oauth_request)
        return self._response(result)

    async def token(self, request: Request) -> Response:
        response = await self._run(request, self.server.create_token_response)
        if self.metrics is not None:
            self.metrics.token_response(response)
        return response

    async def introspect(self, request: Request) -> Response:
        return await self._run(request, self.server.create_endpoint_response, "introspection")

    async def revoke_endpoint(self, request: Request) -> Response:
        return await self._run(request, self.server.create_endpoint_response, "revocation")

    async def jwks(self, _request: Request) -> Response:
        await self.keys.refresh()
        return JSONResponse(self.keys.jwks(), headers={"Cache-Control": "public, max-age=60"})

    async def metadata(self, _request: Request) -> Response:
        """RFC 8414 authorization server metadata."""
        base = self.settings.issuer
        return JSONResponse(
            {
                "issuer": base,
                "token_endpoint": f"{base}/oauth/token",
                "introspection_endpoint": f"{base}/oauth/introspect",
                "revocation_endpoint": f"{base}/oauth/revoke",
                "jwks_uri": f"{base}/.well-known/jwks.json",
                "grant_types_supported": ["client_credentials"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "introspection_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "revocation_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "scopes_supported": list(SCOPES),
                "response_types_supported": [],
                "token_endpoint_auth_signing_alg_values_supported": [ALGORITHM],
            }
        )
