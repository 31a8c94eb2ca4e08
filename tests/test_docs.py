"""The documentation stays true: the configuration reference is the settings, every example
operation is valid against the schema, every Python example compiles, the README links the
pages."""

from __future__ import annotations

import importlib.util
import re
import sys
from types import ModuleType

import pytest
from graphql import OperationDefinitionNode, OperationType, parse, validate

from hub.settings import Settings
from schema import build_schema
from tests.conftest import ROOT

PAGES = ("docs/intranets.md", "docs/partners.md", "docs/operators.md")
DOCUMENTED = (*PAGES, "README.md")
_FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks(language: str) -> list[tuple[str, int, str]]:
    found = []
    for page in DOCUMENTED:
        text = (ROOT / page).read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            if match[1] == language:
                line = text.count("\n", 0, match.start()) + 1
                found.append((page, line, match[2]))
    return found


def _script() -> ModuleType:
    path = ROOT / "scripts" / "settings_reference.py"
    spec = importlib.util.spec_from_file_location("settings_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("settings_reference", module)
    spec.loader.exec_module(module)
    return module


def test_the_configuration_reference_is_the_settings() -> None:
    page = (ROOT / "docs" / "operators.md").read_text(encoding="utf-8")
    script = _script()
    assert page.count(script.START) == 1 and page.count(script.END) == 1
    assert script.updated(page) == page, (
        "docs/operators.md's configuration reference differs from hub/settings.py: "
        "run `.venv/bin/python scripts/settings_reference.py`"
    )
    for name in Settings.model_fields:
        assert f"| `HUB_{name.upper()}` |" in page


GRAPHQL = _blocks("graphql")


def test_the_pages_have_examples() -> None:
    pages = {page for page, _, _ in GRAPHQL}
    assert {"docs/intranets.md", "docs/partners.md", "README.md"} <= pages


@pytest.mark.parametrize(
    ("page", "line", "document"), GRAPHQL, ids=[f"{p}:{n}" for p, n, _ in GRAPHQL]
)
def test_every_example_operation_is_valid(page: str, line: int, document: str) -> None:
    schema = build_schema()._schema
    parsed = parse(document)
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    assert operations, f"{page}:{line}: a graphql block without an operation"
    if schema.subscription_type is None and any(
        o.operation is OperationType.SUBSCRIPTION for o in operations
    ):
        pytest.xfail("the schema has no Subscription type yet (subscriptions are being built)")
    errors = validate(schema, parsed)
    assert not errors, f"{page}:{line}: " + "; ".join(e.message for e in errors)


@pytest.mark.parametrize(
    ("page", "line", "source"),
    _blocks("python"),
    ids=[f"{p}:{n}" for p, n, _ in _blocks("python")],
)
def test_every_python_example_compiles(page: str, line: int, source: str) -> None:
    compile(source, f"{page}:{line}", "exec")


def test_the_readme_links_the_three_pages() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for page in PAGES:
        assert f"({page})" in readme, f"README.md does not link {page}"
        assert (ROOT / page).is_file()


def test_pages_link_to_files_that_exist() -> None:
    for page in PAGES:
        text = (ROOT / page).read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
            assert (ROOT / page).parent.joinpath(target).resolve().exists(), f"{page}: {target}"
