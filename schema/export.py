"""The SDL as a file: schema/schema.graphql is this function's output, kept in sync by a test."""

from __future__ import annotations

from schema import build_schema

__all__ = ["export_sdl"]


def export_sdl() -> str:
    """The schema in SDL, as published to developers and federation gateways."""
    return build_schema().as_str().rstrip() + "\n"
