"""The mappings in the docs are the ones the suite pulls its simulated partners with, and the
documented mapping commands parse."""

from __future__ import annotations

import re
import shlex

import pytest
import yaml

from connectors.mapping import PartnerMapping
from hub.cli import build_parser
from tests.conftest import ROOT
from tests.partners.mapped import mapping_file

PAGES = ("docs/partners.md", "docs/operators.md")
FILES = {
    "graphql": "solidaires-graphql.yaml",
    "json-rest": "api-engagement-rest.yaml",
    "xml-feed": "api-engagement-feed.yaml",
}
_FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks(page: str, language: str) -> list[str]:
    text = (ROOT / page).read_text(encoding="utf-8")
    return [match[2] for match in _FENCE.finditer(text) if match[1] == language]


@pytest.mark.parametrize("page", PAGES)
def test_each_page_shows_a_full_mapping_for_each_protocol(page: str) -> None:
    mappings = [yaml.safe_load(block) for block in _blocks(page, "yaml")]
    documented = {m["protocol"]: m for m in mappings if isinstance(m, dict) and "protocol" in m}

    assert sorted(documented) == sorted(FILES)
    for protocol, document in documented.items():
        PartnerMapping.parse(document)  # valid
        assert document == mapping_file(FILES[protocol]), f"{page}: {protocol}"


@pytest.mark.parametrize("page", PAGES)
def test_the_documented_partner_commands_parse(page: str) -> None:
    parser = build_parser()
    commands = [
        shlex.split(line.split("#")[0])
        for block in _blocks(page, "sh")
        for line in block.replace("\\\n", " ").splitlines()
        if line.startswith("entraide-hub partners ") and "[" not in line  # not a synopsis
    ]

    assert any(c[2:4] == ["mapping", "set"] for c in commands) or page.endswith("partners.md")
    assert any(c[2] == "test" for c in commands)
    for command in commands:
        parser.parse_args(command[1:])
