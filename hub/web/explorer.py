"""The explorer: GraphiQL at `GET /graphql` for browsers, every asset served by the hub itself.

Company networks and CI machines reach no CDN, so GraphiQL, React and ReactDOM are vendored in
hub/web/static (versions, licences and the command that fetched them: its README.md). Asset
URLs carry a hash of their content, so browsers keep them for a year; the page is never cached,
and its Content-Security-Policy forbids loading anything from another origin.

The page offers the example operations of schema/operations (the built-in first query when
there are none) and opens the headers editor with the bearer-token hint in it.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import logging
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

from graphql import GraphQLError, NonNullTypeNode, OperationDefinitionNode, parse
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from hub.demo.load import FIRST_QUERY

__all__ = ["STATIC_PATH", "TOKEN_HINT", "Example", "Explorer"]


def _needs_variables(document: str) -> bool:
    """Whether an operation has a variable it cannot run without (non-null, no default)."""
    try:
        parsed = parse(document)
    except GraphQLError:
        return True
    return any(
        isinstance(variable.type, NonNullTypeNode) and variable.default_value is None
        for definition in parsed.definitions
        if isinstance(definition, OperationDefinitionNode)
        for variable in definition.variable_definitions or ()
    )


logger = logging.getLogger("hub.web.explorer")

STATIC_PATH = "/graphql/static"
TOKEN_HINT = "Bearer <paste the token printed by entraide-hub demo>"

# Everything the page loads, in order; nothing else under hub/web/static is served.
SCRIPTS = (
    "react/react.production.min.js",
    "react-dom/react-dom.production.min.js",
    "graphiql/graphiql.min.js",
    "explorer.js",
)
STYLES = ("graphiql/graphiql.min.css", "explorer.css")
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

# 'self' only: a page that tried to load from a CDN would fail here too, not just offline.
# Inline styles: CodeMirror and GraphiQL's menus position themselves with style attributes.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True, slots=True)
class Example:
    """An example operation, as offered in the explorer's Examples menu."""

    name: str
    query: str


@dataclass(frozen=True, slots=True)
class _Asset:
    body: bytes
    gzipped: bytes
    media_type: str
    version: str  # a hash of the content: in the URL, and the ETag


class Explorer:
    """The explorer page and its static assets; files are read on first use, then kept."""

    def __init__(self, operations: Traversable, static: Traversable | None = None) -> None:
        self.operations = operations
        self.static = static if static is not None else files("hub.web") / "static"
        self._assets: dict[str, _Asset] = {}
        self._page: str | None = None

    def routes(self) -> list[Route]:
        return [Route(STATIC_PATH + "/{name:path}", self.asset, methods=["GET"])]

    def examples(self) -> list[Example]:
        """schema/operations/*.graphql by file name, those that run as they are (no required
        variable) first, since the page opens on the first; the first query when there are
        none."""
        found: list[Example] = []
        if self.operations.is_dir():
            for entry in sorted(self.operations.iterdir(), key=lambda e: e.name):
                if entry.name.endswith(".graphql") and entry.is_file():
                    text = entry.read_text(encoding="utf-8").strip()
                    if text:
                        found.append(Example(entry.name.removesuffix(".graphql"), text + "\n"))
        found.sort(key=lambda example: _needs_variables(example.query))  # stable: by name within
        return found or [Example("FirstSearch", FIRST_QUERY + "\n")]

    def page(self, _request: Request) -> Response:
        if self._page is None:
            self._page = self._render()
        return HTMLResponse(
            self._page,
            headers={
                "Cache-Control": "no-cache",
                "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
            },
        )

    async def asset(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in SCRIPTS and name not in STYLES:
            return Response("Not Found", status_code=404, media_type="text/plain")
        asset = self._asset(name)
        headers = {
            "Cache-Control": IMMUTABLE,
            "ETag": f'"{asset.version}"',
            "X-Content-Type-Options": "nosniff",
            "Vary": "Accept-Encoding",
        }
        if request.headers.get("if-none-match") == headers["ETag"]:
            return Response(status_code=304, headers=headers)
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            return Response(asset.gzipped, media_type=asset.media_type, headers=headers)
        return Response(asset.body, media_type=asset.media_type, headers=headers)

    def _asset(self, name: str) -> _Asset:
        if name not in self._assets:
            body = (self.static / name).read_bytes()
            suffix = name[name.rfind(".") :]
            self._assets[name] = _Asset(
                body=body,
                gzipped=gzip.compress(body, mtime=0),
                media_type=MEDIA_TYPES[suffix],
                version=hashlib.sha256(body).hexdigest()[:16],
            )
        return self._assets[name]

    def _url(self, name: str) -> str:
        # Relative to /graphql, so that the page works behind a proxy that adds a path prefix.
        return f"{STATIC_PATH.lstrip('/')}/{name}?v={self._asset(name).version}"

    def _render(self) -> str:
        config = {
            "examples": [{"name": e.name, "query": e.query} for e in self.examples()],
            "headers": json.dumps({"Authorization": TOKEN_HINT}, indent=2),
        }
        # JSON in a script element: escape "<" so that no "</script>" can end it early.
        data = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
        styles = "\n".join(
            f'    <link rel="stylesheet" href="{html.escape(self._url(n))}">' for n in STYLES
        )
        scripts = "\n".join(
            f'    <script src="{html.escape(self._url(n))}"></script>' for n in SCRIPTS
        )
        return _PAGE.format(styles=styles, scripts=scripts, config=data)


_PAGE = """\
<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Entraide Hub · GraphQL explorer</title>
    <link rel="icon" href="data:,">
{styles}
  </head>
  <body>
    <header class="hub-bar">
      <strong>Entraide Hub</strong> GraphQL explorer.
      Paste a bearer token in <strong>Headers</strong>, below the query:
      <code>entraide-hub demo</code> prints one, or ask <code>POST /oauth/token</code>
      with your client credentials. Example operations: the &#9734; menu beside the query.
    </header>
    <div id="graphiql">Loading the explorer…</div>
    <script id="explorer-config" type="application/json">{config}</script>
{scripts}
  </body>
</html>
"""
