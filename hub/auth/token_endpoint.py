"""RFC 6749 §4.4, the client credentials grant: `POST /oauth/token` issues RFC 9068 JWT access
tokens to confidential clients (client_secret_basic or client_secret_post).

authlib decides (client authentication, grant, scope, RFC 6749 errors); the hub supplies its
hooks and says, in each error's description, what to change. Hooks that need the database call
back into the event loop with `anyio.from_thread.run`, so the loop never blocks on argon2.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import anyio.from_thread
from authlib.oauth2.rfc6749 import AuthorizationServer
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from joserfc.jwk import KeySet

from hub.auth.caller import SCOPES
from hub.auth.clients import ClientStore, OAuthClient
from hub.auth.keys import ALGORITHM, KeyStore
from hub.auth.oauth_request import AUTH_METHODS, FORM, FormRequest
from hub.settings import Settings

__all__ = [
    "Audited",
    "Server",
    "TokenGenerator",
    "issue_token",
    "missing_grant_type",
]

# RFC 6749 error descriptions are printable ASCII without '"' or '\': these are.
WRONG_CREDENTIALS = "the client id or secret is wrong, or the client is disabled"
NO_CREDENTIALS = (
    "no client credentials: send the client id and secret with HTTP Basic "
    "(client_secret_basic) or as the form fields client_id and client_secret (client_secret_post)"
)
FORM_BODY = f"the body must be form-encoded ({FORM}) with grant_type=client_credentials"
ONLY_CLIENT_CREDENTIALS = "this hub issues tokens for grant_type=client_credentials only"

# Writes an audit row, in the event loop: (event, request, detail).
Audited = Callable[[str, FormRequest, Any], Coroutine[Any, Any, None]]


def missing_grant_type(request: FormRequest) -> bool:
    return not request.form.get("grant_type")


class TokenGenerator(JWTBearerTokenGenerator):  # type: ignore[misc]
    """RFC 9068 access tokens signed with the KeyStore's newest key, dated by the hub's clock."""

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
    token = TokenGenerator(settings, keys)(
        grant_type="client_credentials",
        client=client,
        scope=client.get_allowed_scope(scope),
        include_refresh_token=False,
    )
    return str(token["access_token"])


class _ClientCredentials(ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS


class Server(AuthorizationServer):  # type: ignore[misc]
    """authlib's authorization server with the hub's hooks; it also authenticates the clients of
    the introspection and revocation endpoints registered on it."""

    def __init__(
        self, settings: Settings, keys: KeyStore, clients: ClientStore, audited: Audited
    ) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self._clients = clients
        self._audited = audited
        self.register_grant(_ClientCredentials)
        self.register_token_generator("default", TokenGenerator(settings, keys))

    def query_client(self, client_id: str) -> OAuthClient | None:
        record = anyio.from_thread.run(self._clients.get, client_id)
        return OAuthClient(record) if record is not None else None

    def save_token(self, token: dict[str, Any], request: FormRequest) -> None:
        anyio.from_thread.run(self._audited, "token.issued", request, token.get("scope"))

    def create_oauth2_request(self, request: FormRequest) -> FormRequest:
        return request  # built ahead, in the event loop, from the Starlette request

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> tuple[int, Any, list[tuple[str, str]]]:
        return status, body, headers

    def handle_error_response(self, request: FormRequest, error: Any) -> Any:
        code = getattr(error, "error", str(error))
        anyio.from_thread.run(self._audited, "token.denied", request, code)
        description = _description(request, code)
        if description is not None:
            error.description = description
        return super().handle_error_response(request, error)


def _description(request: FormRequest, code: str) -> str | None:
    """What the client should change, in place of authlib's wording; None keeps authlib's.

    A wrong id and a wrong secret read the same, so that the answer does not tell a guesser
    which client ids exist.
    """
    if code == "invalid_client":
        return WRONG_CREDENTIALS if request.has_credentials() else NO_CREDENTIALS
    if code == "unsupported_grant_type":
        return ONLY_CLIENT_CREDENTIALS
    if code == "invalid_scope" and isinstance(request.client, OAuthClient):
        allowed = " ".join(request.client.record.scopes)
        return f"this client may ask for the scopes: {allowed}"
    return None
