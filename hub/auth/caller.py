"""Who is calling: what a valid token says, joined with what the hub knows of its client."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from hub.catalogue.filters import Policy

__all__ = [
    "ADMIN",
    "ENGAGEMENTS_READ",
    "ENGAGEMENTS_WRITE",
    "READ",
    "SCOPES",
    "WRITE",
    "Caller",
    "ClientKind",
    "default_scopes",
]

READ = "missions:read"
WRITE = "missions:write"
ADMIN = "admin"
# A company's own engagements: following them and reports (read); sending employees to
# missions, withdrawing, declaring hours and erasing an employee (write).
ENGAGEMENTS_READ = "engagements:read"
ENGAGEMENTS_WRITE = "engagements:write"
SCOPES = (READ, WRITE, ADMIN, ENGAGEMENTS_READ, ENGAGEMENTS_WRITE)


class ClientKind(enum.StrEnum):
    COMPANY = "company"
    PARTNER = "partner"
    ADMIN = "admin"


def default_scopes(kind: ClientKind) -> list[str]:
    """What a client of each kind may ask for: companies read, partners write, operators all.

    Partners do not read the catalogue (that is the companies' side of the API); they read
    their own missions and refusals through partner fields, under `missions:write`, and the
    engagements on their missions the same way. Companies get the engagement scopes by default:
    the loop is their side of the API; a token for a page that only lists missions asks for
    `missions:read` alone.
    """
    return {
        ClientKind.COMPANY: [READ, ENGAGEMENTS_READ, ENGAGEMENTS_WRITE],
        ClientKind.PARTNER: [WRITE],
        ClientKind.ADMIN: [READ, WRITE, ADMIN],
    }[kind]


@dataclass(frozen=True, slots=True)
class Caller:
    client_id: str
    kind: ClientKind
    scopes: frozenset[str]
    partner: str | None
    policy: Policy
    trusted_documents_only: bool
    expires_at: datetime
    jti: str | None
    client_pk: int

    def has(self, scope: str) -> bool:
        return scope in self.scopes
