"""Scopes in the schema: every data field names the scope it needs."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError
from strawberry.permission import BasePermission
from strawberry.types import Info

from hub.auth.caller import ADMIN, ENGAGEMENTS_READ, ENGAGEMENTS_WRITE, READ, WRITE, Caller

__all__ = [
    "CanAdminister",
    "CanFollowEngagements",
    "CanRead",
    "CanSendEngagements",
    "CanUseWebhooks",
    "CanWrite",
]


class _Scoped(BasePermission):
    scope = ""

    def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
        # Raised rather than returned: instances are shared, so no per-request message state.
        caller = info.context.caller
        if caller is None:
            raise GraphQLError(
                "authentication required: send a bearer token (OAuth 2.0 client credentials)",
                extensions={"code": "UNAUTHENTICATED"},
            )
        if not self.allows(caller):
            raise GraphQLError(self.refusal(), extensions={"code": "FORBIDDEN"})
        return True

    def allows(self, caller: Caller) -> bool:
        return caller.has(self.scope)

    def refusal(self) -> str:
        return f"this field needs the {self.scope!r} scope, which this token does not carry"


class CanRead(_Scoped):
    """Company intranets: the catalogue."""

    scope = READ


class CanWrite(_Scoped):
    """Partner platforms: their own missions."""

    scope = WRITE


class CanAdminister(_Scoped):
    """Operators."""

    scope = ADMIN


class CanFollowEngagements(_Scoped):
    """Companies: their own engagements and reports."""

    scope = ENGAGEMENTS_READ


class CanSendEngagements(_Scoped):
    """Companies: sending employees to missions, withdrawing, declaring hours, erasing."""

    scope = ENGAGEMENTS_WRITE


class CanUseWebhooks(_Scoped):
    """Companies (missions:read) and partners (missions:write) manage their own webhooks."""

    def allows(self, caller: Caller) -> bool:
        return caller.has(READ) or (caller.has(WRITE) and caller.partner is not None)

    def refusal(self) -> str:
        return "webhooks need a company token (missions:read) or a partner's (missions:write)"
