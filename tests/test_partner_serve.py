"""The simulated partners served from their own process (`python -m tests.partners.serve`), as
the benchmarks and the memory test run them: a feed rendered to a file first (`--static`) is
byte for byte the feed generated while it is sent, and its file goes with the server."""

from __future__ import annotations

import subprocess
import sys
from contextlib import AbstractContextManager
from pathlib import Path

import httpx

from tests.partners.serve import served

ROOT = Path(__file__).resolve().parents[1]


def _served(*args: str, tmp: Path) -> AbstractContextManager[str]:
    return served("api-engagement-xml", *args, env={"TMPDIR": str(tmp)})


def test_a_static_feed_is_the_generated_feed_and_its_file_goes_with_the_server(
    tmp_path: Path,
) -> None:
    with _served("--count", "300", tmp=tmp_path) as generated_url:
        generated = httpx.get(f"{generated_url}/feed.xml", timeout=30)
    with _served("--count", "300", "--static", tmp=tmp_path) as static_url:
        rendered = list(tmp_path.glob("partner-feed-*/feed.xml"))
        assert len(rendered) == 1, "the feed is rendered to a file before the server listens"
        static = httpx.get(f"{static_url}/feed.xml", timeout=30)
    assert generated.status_code == static.status_code == 200
    assert static.content.count(b"<mission>") == 300
    assert static.content == generated.content
    assert static.headers["content-type"].startswith("application/xml")
    assert not list(tmp_path.iterdir()), "the rendered file is removed when the server stops"


def test_static_asks_for_a_document_feed() -> None:
    refused = subprocess.run(
        [sys.executable, "-m", "tests.partners.serve", "volunteermatch-graphql", "--static"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert refused.returncode == 2
    assert "serves no document feed" in refused.stderr
