"""A tiny GraphQL-over-HTTP client for partner APIs: POST, then refuse a 200 that carries errors.

GraphQL servers answer HTTP 200 for most failures and put them in `errors`; reading `data`
alone would turn a renamed field or an expired key into "no missions". So any `errors` raise:
an UNAUTHENTICATED/FORBIDDEN code is an `AuthError`, a rate limit or an internal error is a
`RetriableError` (retried by the HTTP layer like a 429), anything else (a validation error after
the partner renamed a field) is a `GraphQLError` with the partner's messages. Partial data with
errors is refused whole: the missing part is exactly what we cannot see.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from connectors._errors import AuthError, FeedError, GraphQLError, RetriableError
from connectors._http import Http

__all__ = ["GraphQLClient"]

_AUTH_CODES = frozenset({"UNAUTHENTICATED", "UNAUTHORIZED", "FORBIDDEN"})
_RETRY_CODES = frozenset(
    {"RATE_LIMITED", "TOO_MANY_REQUESTS", "INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"}
)
_ACCEPT = "application/graphql-response+json, application/json;q=0.9"


class GraphQLClient:
    """Queries one partner's GraphQL endpoint through the shared HTTP plumbing."""

    def __init__(self, http: Http, url: str) -> None:
        self._http = http
        self._url = url

    async def execute(self, query: str, variables: Mapping[str, Any] | None = None) -> Any:
        """The `data` of the response; raises on `errors`, whatever the HTTP status."""
        return await self._http.request(
            "POST",
            self._url,
            json={"query": query, "variables": dict(variables or {})},
            headers={"Accept": _ACCEPT},
            read=self._data,
            # graphql-response+json answers 4xx for a query it cannot run; read its errors.
            pass_statuses=frozenset({400, 422}),
        )

    def _data(self, response: httpx.Response) -> Any:
        where = f"{self._http.partner}: GraphQL at {self._url}"
        try:
            body = response.json()
        except ValueError as exc:
            raise FeedError(f"{where}: HTTP {response.status_code} with a non-JSON body") from exc
        if not isinstance(body, Mapping):
            raise FeedError(f"{where}: the response is not a JSON object")
        errors = body.get("errors")
        if errors:
            raise _error(where, errors if isinstance(errors, list) else [errors])
        data = body.get("data")
        if not isinstance(data, Mapping):
            raise FeedError(f"{where}: the response has no data")
        return data


def _error(where: str, errors: list[Any]) -> Exception:
    messages = "; ".join(
        str(e.get("message", e)) if isinstance(e, Mapping) else str(e) for e in errors
    )
    codes = {_code(e) for e in errors}
    message = f"{where} answered with errors: {messages}"
    if codes & _AUTH_CODES:
        return AuthError(f"{message}; the partner refused our credentials: check the api key")
    if codes & _RETRY_CODES:
        return RetriableError(message)
    return GraphQLError(message, list(errors))


def _code(error: Any) -> str:
    extensions = error.get("extensions") if isinstance(error, Mapping) else None
    code = extensions.get("code") if isinstance(extensions, Mapping) else None
    return str(code).upper() if code else ""
