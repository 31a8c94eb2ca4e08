"""RFC 7662 token introspection: `POST /oauth/introspect` tells a client whether its token is
live and what it carries. A client sees only its own tokens (an admin client sees all)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import anyio.from_thread
from authlib.oauth2.rfc6749 import AuthorizationServer
from authlib.oauth2.rfc7662 import IntrospectionEndpoint

from hub.auth.caller import Caller, ClientKind
from hub.auth.clients import OAuthClient
from hub.auth.oauth_request import AUTH_METHODS

__all__ = ["Introspection", "IssuedToken", "Lookup"]


@dataclass
class IssuedToken:
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


# Finds a live token from its string, in the event loop; None when it is not live.
Lookup = Callable[[str], Coroutine[Any, Any, IssuedToken | None]]


class Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def __init__(self, server: AuthorizationServer, lookup: Lookup) -> None:
        super().__init__(server)
        self._lookup = lookup

    def query_token(self, token_string: str, token_type_hint: str | None) -> IssuedToken | None:
        return anyio.from_thread.run(self._lookup, token_string)

    def check_permission(self, token: IssuedToken, client: OAuthClient, request: Any) -> bool:
        return token.check_client(client)

    def introspect_token(self, token: IssuedToken) -> dict[str, Any]:
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
