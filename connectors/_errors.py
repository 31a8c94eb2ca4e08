"""The connectors' error tree, in one place.

    ConnectorError              a pull could not finish; what was yielded before it stays valid,
    │                           but it is not a complete snapshot and the cursor does not move
    ├── FatalError              retrying will not help until someone changes something
    │   ├── AuthError           the partner refused our credentials (HTTP 401/403, or a GraphQL
    │   │                       UNAUTHENTICATED/FORBIDDEN error)
    │   ├── GraphQLError        a GraphQL response carried errors (often a renamed field: the
    │   │                       partner changed its schema under our query)
    │   ├── ConfigError         the connector's settings cannot work (missing key, bad URL)
    │   └── UnknownConnector    no connector has that name; the message lists the valid ones
    ├── RetriableError          try the whole pull again later: 429, 5xx, timeouts, a connection
    │                           lost mid-body, after the HTTP layer's own retries ran out;
    │                           `retry_after` says when, if the partner said
    └── FeedError               what the partner sent cannot be read as it stands: a truncated or
                                unparseable document, a DTD or entity declaration (XML bomb,
                                external entity), a pagination loop, a page without its records

A record that cannot be read is not an error: `normalise` returns `Refused` for it and the pull
goes on. Every error raised while handling another keeps it as `__cause__` (`raise ... from exc`).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthError",
    "ConfigError",
    "ConnectorError",
    "FatalError",
    "FeedError",
    "GraphQLError",
    "RetriableError",
    "UnknownConnector",
]


class ConnectorError(Exception):
    """Base of every error a connector raises on purpose."""


class FatalError(ConnectorError):
    """The partner answered, and the answer will not change until a person acts."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled whole (a sync's pull runs in a process of its own): message and attributes.
        return (_rebuilt, (type(self), self.args, self.__dict__))


class AuthError(FatalError):
    """The partner refused our credentials: an operator must fix the key or password."""


class GraphQLError(FatalError):
    """A GraphQL response that carried errors; `errors` holds them as the partner sent them."""

    def __init__(self, message: str, errors: list[object]) -> None:
        super().__init__(message)
        self.errors = errors


class ConfigError(FatalError):
    """The connector's settings cannot work, whatever the partner does."""


class UnknownConnector(FatalError, KeyError):
    """No connector is registered under that name."""

    def __str__(self) -> str:  # KeyError would quote the message; keep it readable.
        return str(self.args[0]) if self.args else ""


class RetriableError(ConnectorError):
    """A transient failure that outlived the HTTP retries; the scheduler may try again later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuilt, (type(self), self.args, self.__dict__))


class FeedError(ConnectorError):
    """The partner's document or pagination cannot be trusted as it stands."""


def _rebuilt(kind: type[ConnectorError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    """An error with its own attributes, whatever its constructor asks for."""
    error = kind.__new__(kind)
    error.args = args
    error.__dict__.update(state)
    return error
