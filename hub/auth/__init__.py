"""OAuth 2.0 for the hub: clients, signing keys, token issuance (authlib) and validation."""

from __future__ import annotations

from hub.auth.caller import ADMIN, READ, SCOPES, WRITE, Caller, ClientKind
from hub.auth.clients import ClientRecord, ClientStore, NewClient, OAuthClient
from hub.auth.keys import KeyStore
from hub.auth.server import OAuthEndpoints, issue_token
from hub.auth.tokens import InvalidToken, IssuerStore, RevocationList, TokenValidator, audit

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
    "NewClient",
    "OAuthClient",
    "OAuthEndpoints",
    "RevocationList",
    "TokenValidator",
    "audit",
    "issue_token",
]
