"""The hub's error tree, in one place.

    HubError
    ├── UserInputError        the caller asked for something that cannot mean anything;
    │   │                     shown to the client as a GraphQL error with code BAD_USER_INPUT
    │   ├── FilterError       a filter or order that does not hold together
    │   └── BadCursor         a cursor that this API did not issue, or for another order
    └── NotFoundError         an id that names nothing the caller may see

Anything else raised while serving a request is unexpected: it is masked for the client and
logged with an error id the client can quote.
"""

from __future__ import annotations

__all__ = ["BadCursor", "FilterError", "HubError", "NotFoundError", "UserInputError"]


class HubError(Exception):
    """Base of every error the hub raises on purpose."""


class UserInputError(HubError):
    """The request cannot be served as asked; the message says what to change."""

    code = "BAD_USER_INPUT"


class FilterError(UserInputError, ValueError):
    """A filter or an order that cannot mean anything."""


class BadCursor(UserInputError):
    """A cursor that this API did not issue, or that belongs to another order."""


class NotFoundError(HubError):
    """An id that names nothing the caller may see."""

    code = "NOT_FOUND"
