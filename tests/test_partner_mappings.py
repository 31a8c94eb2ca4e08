"""A partner onboarded by configuration: its GraphQL API names fields differently from the
built-in query; a mapping file, set through the CLI, makes it sync with no code change.

Everything runs through `hub.cli.main` and the real sync runner against a simulated partner on
loopback (tests/partners/solidaires_graphql.py), on the test database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from hub.catalogue.taxonomy import LabelMap
from hub.cli import main
from hub.settings import Settings
from hub.storage.db import make_engine
from hub.storage.tables import (
    mission_events,
    missions,
    partners,
    refused_records,
    sync_runs,
    unmapped_labels,
)
from tests.conftest import GraphQL, run
from tests.partners.catalogue import mission
from tests.partners.solidaires_graphql import MAPPING_FILE, TOKEN, SolidairesGraphQL


@pytest.fixture(scope="module")
def server() -> Iterator[SolidairesGraphQL]:
    partner = SolidairesGraphQL()
    partner.start()
    yield partner
    partner.stop()


@pytest.fixture
def solidaires(server: SolidairesGraphQL) -> SolidairesGraphQL:
    server.reset()
    return server


@pytest.fixture
def cli(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Any:
    """`entraide-hub ARGS` on the test database: (exit code, stdout, stderr)."""
    monkeypatch.setenv("HUB_DATABASE_URL", settings.database_url)

    def call(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return call


def snapshot(settings: Settings) -> dict[str, Any]:
    """Everything a sync writes: row counts, and the partner rows as they are."""

    async def go() -> dict[str, Any]:
        engine = make_engine(settings)
        try:
            async with engine.connect() as conn:
                counts = {
                    table.name: await conn.scalar(select(func.count()).select_from(table))
                    for table in (missions, mission_events, sync_runs, refused_records)
                }
                counts["unmapped_labels"] = await conn.scalar(
                    select(func.count()).select_from(unmapped_labels)
                )
                rows = (await conn.execute(select(partners).order_by(partners.c.pk))).all()
                return {"counts": counts, "partners": [tuple(row) for row in rows]}
        finally:
            await engine.dispose()

    return run(go())  # type: ignore[no-any-return]


def test_the_built_in_query_fails_loudly_and_a_mapping_file_makes_the_partner_sync(
    cli: Any, solidaires: SolidairesGraphQL, settings: Settings, data: GraphQL
) -> None:
    # The operator first tries the built-in GraphQL connector: its query asks for
    # searchOpportunities, which this partner does not have (auth off so the query is judged).
    solidaires.require_auth = False
    code, _, err = cli(
        "partners", "add", "solidaires", "--connector", "volunteermatch-graphql",
        "--url", solidaires.api, "--api-key", TOKEN,
    )  # fmt: skip
    assert code == 0, err
    code, out, _ = cli("sync", "solidaires")
    assert code == 1
    assert "solidaires: FAILED" in out and "GraphQLError" in out
    assert "searchOpportunities" in out  # the partner's own validation message
    code, out, _ = cli("partners", "test", "solidaires")
    assert code == 1 and "searchOpportunities" in json.loads(out)["error"]

    # The mapping written for it, set with no code change; the partner's token is checked again.
    solidaires.require_auth = True
    code, out, err = cli("partners", "mapping", "set", "solidaires", str(MAPPING_FILE))
    assert code == 0, err
    assert json.loads(out) == {
        "name": "solidaires", "connector": "volunteermatch-graphql", "version": 1,
    }  # fmt: skip

    # A dry run shows the records as they would be stored, the refusals, and writes nothing.
    solidaires.faults.malformed = True  # a null record and one without a name, in 20
    before = snapshot(settings)
    code, out, err = cli("partners", "test", "solidaires", "--limit", "20")
    assert code == 0, err
    assert snapshot(settings) == before
    report = json.loads(out)
    assert report["error"] is None and report["mapping_version"] == 1
    assert len(report["records"]) == 18
    assert [r["reason"] for r in report["refused"]] == [
        "the record is null, not an object",
        "missing title (read from name)",
    ]
    first, m = report["records"][0], mission(0)
    assert first["external_id"] == "RS-00000" and first["title"] == m.title
    assert first["start_at"].startswith(m.start.isoformat())  # schedule { from }
    assert first["posted_at"].startswith(m.posted.isoformat())  # "31.12.2026"
    assert first["organization"]["name"] == m.org_name  # org { title }
    assert first["remote"] == {"full": "FULL", "possible": "POSSIBLE", "no": "NONE"}[m.remote]
    place = first["locations"][0]
    assert (place["city"], place["postal_code"]) == (m.city.name, m.city.postal_code)
    assert (place["latitude"], place["longitude"]) == (m.city.latitude, m.city.longitude)
    assert first["skills"] or first["causes"]
    labels = LabelMap()
    read = [mission(i) for i in range(16)]  # the 18 records are missions 0 to 15 (and 2 bad)
    expected_unmapped = {
        "causes": sorted({m.domain_label for m in read if labels.cause(m.domain_label) is None}),
        "skills": sorted({s for m in read for s in m.soft_skills if labels.skill(s) is None}),
    }
    assert {k: sorted(v) for k, v in report["unmapped"].items()} == expected_unmapped

    # The sync brings every mission into the catalogue, searchable through GraphQL.
    solidaires.faults.malformed = False
    code, out, _ = cli("sync", "solidaires")
    assert code == 0 and "solidaires: SUCCEEDED" in out, out
    found = data(
        """query($filter: MissionFilterInput) {
          missions(filter: $filter, first: 100) {
            totalCount
            edges { node { externalId title startAt organization { name }
                           locations { city latitude } } }
          }
        }""",
        {"filter": {"partners": ["solidaires"], "status": ["OPEN", "EXPIRED"]}},
    )["missions"]
    assert found["totalCount"] == solidaires.count
    nodes = {edge["node"]["externalId"]: edge["node"] for edge in found["edges"]}
    node = nodes["RS-00007"]
    m = mission(7)
    assert node["title"] == m.title and node["organization"]["name"] == m.org_name
    assert node["startAt"].startswith(m.start.isoformat())
    assert node["locations"][0]["city"] == m.city.name
    words = data(
        "query($f: MissionFilterInput) { missions(filter: $f) { edges { node { externalId } } } }",
        {"f": {"text": m.title, "partners": ["solidaires"], "status": ["OPEN", "EXPIRED"]}},
    )["missions"]["edges"]
    assert "RS-00007" in [edge["node"]["externalId"] for edge in words]


def test_a_generic_graphql_partner_is_added_with_its_mapping_and_versions_count_sets(
    cli: Any, solidaires: SolidairesGraphQL, tmp_path: Path
) -> None:
    code, _, err = cli(
        "partners", "add", "sol", "--connector", "graphql", "--url", solidaires.api,
    )  # fmt: skip
    assert code == 2 and "reads the partner's mapping, and none is set" in err

    code, out, err = cli(
        "partners", "add", "sol", "--connector", "graphql", "--url", solidaires.api,
        "--api-key", TOKEN, "--mapping", str(MAPPING_FILE),
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["mapping_version"] == 1
    code, out, _ = cli("partners", "mapping", "show", "sol")
    assert code == 0
    assert out.startswith("# sol: connector graphql, mapping version 1, set ")
    shown = yaml.safe_load(out)
    assert shown["fields"]["start_at"] == {"path": ["schedule.from"]}
    assert shown["request"]["path"] == "/graphql"

    # What `show` prints can be edited and set again: the version counts the sets.
    shown["fields"]["description"] = {"path": "summaryHtml"}
    edited = tmp_path / "edited.yaml"
    edited.write_text(yaml.safe_dump(shown))
    code, out, err = cli("partners", "mapping", "set", "sol", str(edited))
    assert code == 0, err
    assert json.loads(out)["version"] == 2

    # A bad key is named, and nothing is stored.
    shown["fields"]["titel"] = "name"
    edited.write_text(yaml.safe_dump(shown))
    code, _, err = cli("partners", "mapping", "set", "sol", str(edited))
    assert code == 2 and "unknown unified field 'titel'" in err
    del shown["fields"]["titel"]
    shown["request"]["documnt"] = "query { x }"
    edited.write_text(yaml.safe_dump(shown))
    code, _, err = cli("partners", "mapping", "set", "sol", str(edited))
    assert code == 2 and "request.documnt: unknown key" in err
    edited.write_text("protocol: [graphql")
    code, _, err = cli("partners", "mapping", "set", "sol", str(edited))
    assert code == 2 and "not YAML or JSON" in err
    code, _, err = cli("partners", "mapping", "set", "sol", str(tmp_path / "missing.yaml"))
    assert code == 2 and "cannot read the mapping file" in err
    code, out, _ = cli("partners", "mapping", "show", "sol")
    assert "mapping version 2" in out

    # Reconfigured without --mapping: the stored mapping stays, if it fits the connector.
    code, _, err = cli(
        "partners", "add", "sol", "--connector", "json-rest", "--url", solidaires.api,
        "--api-key", TOKEN,
    )  # fmt: skip
    assert code == 2 and "stored mapping (version 2) does not fit" in err
    code, out, err = cli(
        "partners", "add", "sol", "--connector", "graphql", "--url", solidaires.api,
        "--api-key", TOKEN, "--every", "1h",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["mapping_version"] == 2

    code, out, err = cli("partners", "test", "sol", "--limit", "3")
    assert code == 0, err
    report = json.loads(out)
    assert [r["external_id"] for r in report["records"]] == ["RS-00000", "RS-00001", "RS-00002"]
    assert report["records"][0]["description"]  # the field the second version added


def test_show_prints_a_built_in_connector_s_default_mapping(
    cli: Any, solidaires: SolidairesGraphQL
) -> None:
    code, _, err = cli(
        "partners", "add", "vm", "--connector", "volunteermatch-graphql",
        "--url", solidaires.api, "--api-key", "k",
    )  # fmt: skip
    assert code == 0, err
    code, out, _ = cli("partners", "mapping", "show", "vm")
    assert code == 0
    assert out.startswith("# vm: no mapping of its own; the volunteermatch-graphql connector's")
    default = yaml.safe_load(out)
    assert "searchOpportunities" in default["request"]["document"]
    assert cli("partners", "mapping", "show", "nobody")[0] == 2
    assert cli("partners", "test", "nobody")[0] == 2
    code, _, err = cli("partners", "test", "vm", "--limit", "0")
    assert code == 2 and "--limit must be between 1 and 500, got 0" in err
