"""Serve one simulated partner from its own process, healthy, until stopped.

    python -m tests.partners.serve api-engagement-xml --count 20000 [--port 8765] [--static]

Prints "PORT <n>" once listening. --static renders a document feed once to a temporary file,
before listening, and serves that file (removed on exit): a real partner's feed is a file on
another machine, so that a benchmark's figures are then the client's work alone, not the
generator's, on the same cores. The memory test runs the feed this way so that what it
measures is the client alone, and a developer can point a connector at a partner by hand.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from tests.partners import PARTNERS
from tests.partners._server import FaultMiddleware
from tests.partners.base import SimulatedPartner


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.partners.serve")
    parser.add_argument("connector", choices=sorted(PARTNERS))
    parser.add_argument("--count", type=int, default=None, help="missions in the catalogue")
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument(
        "--static", action="store_true", help="render the feed to a file first, serve the file"
    )
    args = parser.parse_args(argv)
    partner = PARTNERS[args.connector]()
    partner.require_auth = False
    if args.count is not None:
        partner.resize(args.count)
    # uvicorn stops on SIGTERM, then raises it again: it then ends this process by SystemExit,
    # status 0, leaving through the block below (which removes the rendered file).
    signal.signal(signal.SIGTERM, _exit)
    if not args.static:
        _serve(partner, args.port)
        return
    render_to = getattr(partner, "render_to", None)
    if render_to is None:
        parser.error(f"--static: {args.connector} serves no document feed")
    with tempfile.TemporaryDirectory(prefix="partner-feed-") as scratch:
        partner.document_path = Path(scratch) / "feed.xml"
        render_to(partner.document_path)
        _serve(partner, args.port)


def _exit(_signum: int, _frame: object) -> None:
    sys.exit(0)


def _serve(partner: SimulatedPartner, port: int) -> None:
    app = FaultMiddleware(partner.app(), lambda: partner.faults, partner.hits)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(128)  # before announcing: connections wait in the backlog for uvicorn
    print(f"PORT {listener.getsockname()[1]}", flush=True)
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", loop="asyncio", http="h11"
    )
    uvicorn.Server(config).run(sockets=[listener])


@contextmanager
def served(connector: str, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """This module run as a process (the tests' and the benchmarks' way): yields the base URL
    it announced, then stops it and checks that it ended cleanly."""
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.partners.serve", connector, *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, **(env or {})},
    )
    try:
        assert server.stdout is not None
        announced = server.stdout.readline()
        assert announced.startswith("PORT "), "the partner's server did not start (see stderr)"
        yield f"http://127.0.0.1:{announced.split()[1]}"
    finally:
        server.terminate()
        assert server.wait(timeout=30) == 0, "the partner's server did not end cleanly"


if __name__ == "__main__":
    main(sys.argv[1:])
