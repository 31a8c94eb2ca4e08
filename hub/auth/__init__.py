"""OAuth 2.0 for the hub: clients, signing keys, token issuance (authlib) and validation.

One module a specification:

    token_endpoint  RFC 6749 §4.4 client credentials, issuing RFC 9068 JWT access tokens
    introspection   RFC 7662 token introspection
    revocation      RFC 7009 token revocation, and the jti deny-list
    metadata        RFC 8414 server metadata, and the JWKS (RFC 7517)
    validation      RFC 9068 on the resource-server side: a bearer token to a Caller
    issuers         companies' own identity providers trusted as token issuers
    endpoints       the HTTP side of the above, with the token endpoint's rate limits (limits)

beside the hub's own records: clients, keys (signing keys), audit (the audit log), admin (the
operator's actions). Their SQL lives in hub/storage.
"""

from __future__ import annotations

from hub.auth.audit import audit
from hub.auth.caller import ADMIN, READ, SCOPES, WRITE, Caller, ClientKind
from hub.auth.clients import ClientRecord, ClientStore, NewClient, OAuthClient
from hub.auth.endpoints import OAuthEndpoints
from hub.auth.issuers import IssuerStore
from hub.auth.keys import KeyStore
from hub.auth.limits import Limiter, LimiterFactory, TokenRateLimits
from hub.auth.revocation import RevocationList
from hub.auth.token_endpoint import issue_token
from hub.auth.validation import InvalidToken, TokenValidator

__all__ = [
    "ADMIN",
    "READ",
    "SCOPES",
    "WRITE",
    "Caller",
    "ClientKind",
    "ClientRecord",
    "ClientStore",
    "InvalidToken",
    "IssuerStore",
    "KeyStore",
    "Limiter",
    "LimiterFactory",
    "NewClient",
    "OAuthClient",
    "OAuthEndpoints",
    "RevocationList",
    "TokenRateLimits",
    "TokenValidator",
    "audit",
    "issue_token",
]
