"""What a client can discover: RFC 8414 authorization server metadata and the JWKS (RFC 7517)
of the keys that verify the hub's tokens."""

from __future__ import annotations

from typing import Any

from hub.auth.caller import SCOPES
from hub.auth.keys import ALGORITHM
from hub.auth.oauth_request import AUTH_METHODS

__all__ = ["JWKS_CACHE_CONTROL", "server_metadata"]

# Short: a new key reaches clients soon after a rotation.
JWKS_CACHE_CONTROL = "public, max-age=60"


def server_metadata(issuer: str) -> dict[str, Any]:
    """`GET /.well-known/oauth-authorization-server`."""
    return {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/oauth/token",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "introspection_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "scopes_supported": list(SCOPES),
        "response_types_supported": [],
        "token_endpoint_auth_signing_alg_values_supported": [ALGORITHM],
    }
