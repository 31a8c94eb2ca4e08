"""The command line as a newcomer runs it: a real process serving real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hub.demo.load import FIRST_QUERY
from schema.export import export_sdl
from tests.conftest import ROOT
from tests.servers import poll_until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`entraide-hub demo > demo.log`, as the README says to run it (stdout is a file, so
    Python would buffer it by blocks unless the command flushes its lines)."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},
        "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
    }
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "hub", "demo", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        assert process.poll() is None, log.read_text()
        try:
            return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        poll_until(healthy, "the demo hub to come up", 120)
        yield base, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_demo_serves_the_first_query_it_prints(demo: tuple[str, Path]) -> None:
    base, log = demo
    assert (
        httpx.post(f"{base}/graphql", json={"query": FIRST_QUERY}, timeout=30).json()["errors"][0][
            "extensions"
        ]["code"]
        == "UNAUTHENTICATED"
    )
    # The demo prints the company's credentials: a newcomer gets a token from them. They are in
    # the log file while the server is still running.
    output = log.read_text()
    assert "client_secret" in output, output
    secret = output.split("client_secret:", 1)[1].split()[0]  # the company's, printed first
    token = httpx.post(
        f"{base}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("demo-company", secret),
        timeout=30,
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    response = httpx.post(f"{base}/graphql", json={"query": FIRST_QUERY}, headers=auth, timeout=30)
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body, body
    found = body["data"]["missions"]
    assert found["totalCount"] > 0
    assert {edge["node"]["remote"] for edge in found["edges"]} <= {"FULL", "POSSIBLE"}
    partners = httpx.post(
        f"{base}/graphql",
        json={"query": "{ partners { name missionCount } }"},
        headers=auth,
        timeout=30,
    ).json()["data"]["partners"]
    assert len(partners) >= 3
    assert sum(p["missionCount"] for p in partners) >= 2000
    # A few demo engagements, so that the company's report is not empty.
    engagements = httpx.post(
        f"{base}/graphql",
        json={"query": "{ engagements(first: 50) { nodes { status hoursGiven } } }"},
        headers=auth,
        timeout=30,
    ).json()["data"]["engagements"]["nodes"]
    statuses = {e["status"] for e in engagements}
    assert {"COMPLETED", "ACCEPTED", "INTERESTED", "WITHDRAWN", "DECLINED"} <= statuses
    assert sum(e["hoursGiven"] or 0 for e in engagements if e["status"] == "COMPLETED") > 20
    assert httpx.get(f"{base}/readyz", timeout=5).json()["database"] == "reachable"
    assert "Bearer ey" in output, output[-2500:]
    assert "First query to try" in output
    assert "query FirstSearch" in output


def test_schema_file_matches_the_code() -> None:
    committed = (ROOT / "schema" / "schema.graphql").read_text(encoding="utf-8")
    assert committed == export_sdl(), (
        "schema/schema.graphql drifted: run `entraide-hub schema export`"
    )


def test_schema_export_writes_the_sdl(tmp_path: Path) -> None:
    target = tmp_path / "out.graphql"
    result = subprocess.run(
        [sys.executable, "-m", "hub", "schema", "export", "-o", str(target)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert target.read_text(encoding="utf-8") == export_sdl()
