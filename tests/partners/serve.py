"""Serve one simulated partner from its own process, healthy, until stopped.

    python -m tests.partners.serve api-engagement-xml --count 20000 [--port 8765]

Prints "PORT <n>" once listening. The memory test runs the feed this way so that what it
measures is the client alone, and a developer can point a connector at a partner by hand.
"""

from __future__ import annotations

import argparse
import socket
import sys

import uvicorn

from tests.partners import PARTNERS
from tests.partners._server import FaultMiddleware


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.partners.serve")
    parser.add_argument("connector", choices=sorted(PARTNERS))
    parser.add_argument("--count", type=int, default=None, help="missions in the catalogue")
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    args = parser.parse_args(argv)
    partner = PARTNERS[args.connector]()
    partner.require_auth = False
    if args.count is not None:
        partner.resize(args.count)
    app = FaultMiddleware(partner.app(), lambda: partner.faults, partner.hits)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(128)  # before announcing: connections wait in the backlog for uvicorn
    print(f"PORT {listener.getsockname()[1]}", flush=True)
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", loop="asyncio", http="h11"
    )
    uvicorn.Server(config).run(sockets=[listener])


if __name__ == "__main__":
    main(sys.argv[1:])
