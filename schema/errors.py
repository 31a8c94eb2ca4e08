"""Expected failures become clear GraphQL errors; unexpected ones are masked with an error id."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.schema.exceptions import InvalidOperationTypeError

from hub.errors import HubError

__all__ = ["MaskUnexpectedErrors", "with_code", "with_message"]

logger = logging.getLogger("hub.graphql")


def _expected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is None or isinstance(
        original, HubError | GraphQLError | InvalidOperationTypeError
    )


class MaskUnexpectedErrors(MaskErrors):
    """Hide the text of unexpected exceptions; log them with an id the client can quote."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: not _expected(error))

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [_with_code(error) for error in super()._process_errors(errors)]

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        error_id = uuid.uuid4().hex[:16]
        logger.error(
            "unexpected error %s at %s",
            error_id,
            ".".join(str(p) for p in error.path or ()),
            exc_info=error.original_error,
        )
        return GraphQLError(
            message=f"Unexpected error; quote error id {error_id} to the hub's operators.",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions={"code": "INTERNAL_SERVER_ERROR", "errorId": error_id},
        )


def with_code(error: GraphQLError, code: str) -> GraphQLError:
    """The same error with `extensions.code` set."""
    return _copy(error, error.message, {**(error.extensions or {}), "code": code})


def with_message(error: GraphQLError, message: str) -> GraphQLError:
    """The same error with another message."""
    return _copy(error, message, error.extensions)


def _copy(error: GraphQLError, message: str, extensions: dict[str, Any] | None) -> GraphQLError:
    return GraphQLError(
        message,
        error.nodes,
        error.source,
        error.positions,
        error.path,
        error.original_error,
        extensions,
    )


def _with_code(error: GraphQLError) -> GraphQLError:
    """Give expected hub errors their machine-readable code."""
    original = error.original_error
    if isinstance(original, InvalidOperationTypeError):
        # The legacy graphql-ws protocol runs subscriptions only.
        reason = original.as_http_error_reason("this transport")
        return GraphQLError(
            f"{reason}: send them over HTTP or graphql-transport-ws",
            error.nodes,
            error.source,
            error.positions,
            error.path,
            extensions={"code": "OPERATION_NOT_ALLOWED"},
        )
    if isinstance(original, HubError):
        code = getattr(original, "code", "BAD_REQUEST")
        error.extensions = {**(error.extensions or {}), "code": code}
    return error
