"""The registry names the connectors; an unknown name is refused with the valid ones."""

from __future__ import annotations

import pytest

import connectors
from connectors import CONNECTORS, FatalError, UnknownConnector, connector_names, get_connector


def test_names_the_connectors() -> None:
    assert connector_names() == [
        "api-engagement-api",
        "api-engagement-xml",
        "graphql",  # any GraphQL partner, read through its mapping
        "idealist-json",
        "json-rest",  # any JSON REST partner, read through its mapping
        "volunteermatch-graphql",
        "xml-feed",  # any XML feed, read through its mapping
    ]
    assert all(CONNECTORS[name].name == name for name in CONNECTORS)


def test_an_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownConnector) as caught:
        get_connector("jeveuxaider")

    message = str(caught.value)
    assert message.startswith("unknown connector 'jeveuxaider'; valid names: ")
    assert all(name in message for name in CONNECTORS)
    assert isinstance(caught.value, FatalError) and isinstance(caught.value, KeyError)


def test_the_public_surface_is_importable() -> None:
    assert all(hasattr(connectors, name) for name in connectors.__all__)
