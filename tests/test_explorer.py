"""The explorer at GET /graphql: GraphiQL served entirely by the hub, checked as HTTP and then in
headless Chromium with every host but the hub's cut off."""

from __future__ import annotations

import base64
import contextlib
import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.testclient import TestClient
from websockets.sync.client import ClientConnection, connect

from hub.clock import ManualClock
from hub.settings import Settings
from hub.web.app import create_app
from hub.web.explorer import SCRIPTS, STYLES, TOKEN_HINT, Explorer
from tests.catalogue import INGEST_AT, catalogue
from tests.conftest import ROOT, GraphQL, Store, require
from tests.servers import serve

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
CDN = re.compile(
    r"unpkg\.com|jsdelivr\.net|cdnjs\.|esm\.sh|googleapis\.com|gstatic\.com|//cdn\.", re.I
)
# Namespace names and links in comments or help texts, never fetched.
INERT_URL = re.compile(
    r"https?://(www\.w3\.org|github\.com|en\.wikipedia\.org|commonmark\.org|codemirror\.net"
    r"|reactjs\.org|react\.dev|facebook\.github\.io|spec\.graphql\.org|graphql\.org)\b"
)


def page(client: TestClient) -> str:
    response = client.get("/graphql", headers=BROWSER)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="(graphql/static/[^"]+)"', html)


# --- the page and its assets, over HTTP -------------------------------------------------------


def test_browser_gets_the_explorer_and_clients_get_graphql(
    client: TestClient, company_token: str
) -> None:
    html = page(client)
    assert "<title>Entraide Hub" in html
    assert 'id="graphiql"' in html
    csp = client.get("/graphql", headers=BROWSER).headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    # An operation over GET, and a client that asks for JSON, are not browsers.
    auth = {"Authorization": f"Bearer {company_token}"}
    got = client.get("/graphql", params={"query": "{ __typename }"}, headers={**BROWSER, **auth})
    assert got.json() == {"data": {"__typename": "Query"}}
    bare = client.get("/graphql", headers={"Accept": "application/json", **auth})
    assert bare.status_code == 400


def test_every_asset_is_served_by_the_hub_with_long_caching(client: TestClient) -> None:
    html = page(client)
    urls = assets(html)
    assert sorted(u.split("?")[0].removeprefix("graphql/static/") for u in urls) == sorted(
        SCRIPTS + STYLES
    )
    for url in urls:
        response = client.get("/" + url)
        assert response.status_code == 200, url
        assert "immutable" in response.headers["cache-control"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-type"].startswith(("text/javascript", "text/css"))
        again = client.get("/" + url, headers={"If-None-Match": response.headers["etag"]})
        assert again.status_code == 304
    # Only the files the page loads: no directory listing, no way out of hub/web/static.
    for path in ("README.md", "graphiql/LICENSE", "../app.py", "..%2Fapp.py", ""):
        assert client.get(f"/graphql/static/{path}").status_code == 404, path


def test_nothing_is_loaded_from_another_host(client: TestClient) -> None:
    html = page(client)
    # The example operations are data (their comments may name a partner's site), not loaded.
    markup = re.sub(r'(id="explorer-config"[^>]*>).*?</script>', r"\1</script>", html, flags=re.S)
    assert not re.findall(r"https?://", markup), "the page names another host"
    assert not CDN.search(markup) and "cdn" not in markup.lower()
    for url in assets(html):
        text = client.get("/" + url).text
        assert not CDN.search(text), url
        others = {m.group(0) for m in re.finditer(r"https?://[\w.-]+", text)}
        assert {u for u in others if not INERT_URL.match(u)} == set(), url


def test_the_headers_editor_carries_the_token_hint_and_the_examples(client: TestClient) -> None:
    html = page(client)
    config = json.loads(re.search(r'id="explorer-config"[^>]*>(.*?)</script>', html, re.S)[1])  # type: ignore[index]
    assert json.loads(config["headers"]) == {"Authorization": TOKEN_HINT}
    operations = sorted((ROOT / "schema" / "operations").glob("*.graphql"))
    names = [e["name"] for e in config["examples"]]
    assert sorted(names) == ([p.stem for p in operations] or ["FirstSearch"])
    assert names[0] == "intranet-search"  # the page opens on one that runs as it is
    assert "</script" not in html.split('id="explorer-config"')[1].split("</script>")[0]


def test_examples_fall_back_to_the_first_query(tmp_path: Path) -> None:
    (tmp_path / "empty.graphql").write_text("  \n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not an operation", encoding="utf-8")
    assert [e.name for e in Explorer(tmp_path).examples()] == ["FirstSearch"]
    assert [e.name for e in Explorer(tmp_path / "missing").examples()] == ["FirstSearch"]
    (tmp_path / "b.graphql").write_text("{ b: __typename }", encoding="utf-8")
    (tmp_path / "a.graphql").write_text("{ a: __typename }", encoding="utf-8")
    assert [e.name for e in Explorer(tmp_path).examples()] == ["a", "b"]


def test_examples_that_run_as_they_are_come_first(tmp_path: Path) -> None:
    # The page opens on the first example: one a newcomer can run without writing variables.
    operations = {
        "a-needs": "query A($id: ID!) { node(id: $id) { id } }",
        "b-defaulted": "query B($first: Int! = 5) { missions(first: $first) { totalCount } }",
        "c-optional": "query C($after: String) { missions(after: $after) { totalCount } }",
        "d-broken": "query D( {",
    }
    for name, text in operations.items():
        (tmp_path / f"{name}.graphql").write_text(text, encoding="utf-8")
    names = [e.name for e in Explorer(tmp_path).examples()]
    assert names == ["b-defaulted", "c-optional", "a-needs", "d-broken"]


# --- in headless Chromium, offline --------------------------------------------------------------


class DevTools:
    """A minimal Chrome DevTools Protocol client for one page, over its WebSocket.

    Every request the page makes is paused (the Fetch domain): requests to the hub go on, any
    other is failed and recorded, on top of the network cut made by the command-line flags.
    """

    def __init__(self, ws_url: str, allowed_origin: str) -> None:
        self._stack = contextlib.ExitStack()
        self.ws: ClientConnection = self._stack.enter_context(
            connect(ws_url, max_size=None, open_timeout=10)
        )
        self.allowed_origin = allowed_origin
        self.next_id = 0
        self.blocked: list[str] = []
        self.requested: list[str] = []
        self.authorizations: list[str] = []  # the Authorization headers the page sent
        self.problems: list[str] = []

    def close(self) -> None:
        self._stack.close()

    def call(self, method: str, timeout: float = 30, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        wanted = self.next_id
        self.ws.send(json.dumps({"id": wanted, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") == wanted:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self._event(message["method"], message.get("params", {}))

    def _event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Fetch.requestPaused":
            url = params["request"]["url"]
            self.requested.append(url)
            self.authorizations += [
                value
                for name, value in params["request"].get("headers", {}).items()
                if name.lower() == "authorization"
            ]
            scheme, netloc = urlsplit(url)[:2]
            if f"{scheme}://{netloc}" == self.allowed_origin or scheme == "data":
                self._send("Fetch.continueRequest", requestId=params["requestId"])
            else:
                self.blocked.append(url)
                self._send("Fetch.failRequest", requestId=params["requestId"], errorReason="Failed")
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.problems.append(details.get("exception", {}).get("description") or str(details))
        elif method == "Log.entryAdded":
            entry = params["entry"]
            if entry["source"] == "security" or "Content Security Policy" in entry["text"]:
                self.problems.append(entry["text"])

    def _send(self, method: str, **params: Any) -> None:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click at the element's centre (menus open on pointer events), once a click
        there reaches it: a menu that is still being placed, or not yet taking pointer events,
        would let the click fall elsewhere."""
        box = self.wait_for(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return null;"
            " const r = e.getBoundingClientRect(), x = r.x + r.width / 2, y = r.y + r.height / 2;"
            " const hit = document.elementFromPoint(x, y);"
            " return hit && e.contains(hit) ? [x, y] : null; })()",
            f"{selector} to take a click",
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.call(
                "Input.dispatchMouseEvent",
                type=kind,
                x=box[0],
                y=box[1],
                button="left",
                buttons=1 if kind == "mousePressed" else 0,
                clickCount=1,
            )

    def wait_for(self, expression: str, what: str, timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.05)  # sleep-ok: a bounded poll of the page's state
        raise AssertionError(f"timed out waiting for {what}; problems: {self.problems}")

    def wait_for_request(self, sent: Callable[[], bool], what: str, timeout: float = 30) -> None:
        """Read the page's events until `sent()` holds (a request it made, say)."""
        deadline = time.monotonic() + timeout
        while not sent():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {what}; problems: {self.problems}")
            try:
                message = json.loads(self.ws.recv(timeout=remaining))
            except TimeoutError:
                continue
            if "method" in message:
                self._event(message["method"], message.get("params", {}))


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[Callable[[str], DevTools]]:
    """Headless Chromium that can reach loopback only; yields `open(hub_origin) -> DevTools`."""
    binary = chromium_binary()
    require(binary is not None, "Chromium is not installed (Debian: apt-get install chromium)")
    assert binary is not None
    profile = tmp_path / "profile"
    process = subprocess.Popen(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "--window-size=1280,900",
            # The network cut: no name resolves, and every host but loopback (which Chromium
            # never proxies) goes through a proxy where nothing listens.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--proxy-server=http://127.0.0.1:9",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    sessions: list[DevTools] = []
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if process.poll() is not None or time.monotonic() > deadline:
                stderr = process.stderr.read().decode() if process.stderr else ""
                pytest.fail(f"Chromium did not start: {stderr[-2000:]}")
            time.sleep(0.05)  # sleep-ok: a bounded poll for the file Chromium writes once up
        port = int(port_file.read_text().split()[0])

        def open_page(origin: str) -> DevTools:
            with httpx.Client(trust_env=False, timeout=10) as http:
                targets = http.get(f"http://127.0.0.1:{port}/json/list").json()
            target = next(t for t in targets if t["type"] == "page")
            tools = DevTools(target["webSocketDebuggerUrl"], origin)
            sessions.append(tools)
            tools.call("Fetch.enable", patterns=[{"urlPattern": "*"}])
            tools.call("Runtime.enable")
            tools.call("Log.enable")
            tools.call("Page.enable")
            return tools

        yield open_page
    finally:
        for tools in sessions:
            tools.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# CodeMirror 5 keeps its editor object on its element: the test reads and writes the editors as
# a user sees them. The headers editor is the visible one of the editor tools pane.
HEADERS = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
EDITORS = """(() => {
  const value = (selector) => {
    const element = document.querySelector(selector);
    return element && element.CodeMirror ? element.CodeMirror.getValue() : null;
  };
  const headers = document.querySelector('%s');
  return {
    count: document.querySelectorAll('.graphiql-container .CodeMirror').length,
    query: value('.graphiql-query-editor .CodeMirror'),
    headers: value('%s'),
    headersVisible: !!(headers && headers.offsetParent !== null),
    response: value('.graphiql-response .CodeMirror'),
  };
})()""" % (HEADERS, HEADERS)


def test_explorer_runs_a_query_in_headless_chromium_offline(
    settings: Settings,
    store: Store,
    gql: GraphQL,
    company_token: str,
    chromium: Callable[[str], DevTools],
    tmp_path: Path,
    clock: ManualClock,
) -> None:
    for partner, drafts in catalogue().items():
        store.ingest(partner, drafts, INGEST_AT)
    with serve(create_app(settings, clock)) as origin:
        tools = chromium(origin)
        tools.call("Page.navigate", url=f"{origin}/graphql")
        editors = tools.wait_for(
            f"(() => {{ const e = {EDITORS}; return e.count >= 3 && e.query ? e : null; }})()",
            "GraphiQL's editors",
        )
        assert TOKEN_HINT in editors["headers"]
        assert editors["headersVisible"], "the headers editor is open by default"
        first_query = editors["query"]
        assert first_query.strip(), "the first example is in the query editor"

        # Paste the token, as the hint says, and run the query with the Run button.
        pasted = json.dumps({"Authorization": f"Bearer {company_token}"})
        tools.evaluate(
            f"document.querySelector('{HEADERS}').CodeMirror.setValue({json.dumps(pasted)})"
        )
        # The explorer reads a pasted token after a short pause, then fetches the schema with it.
        bearer = f"Bearer {company_token}"
        tools.wait_for_request(lambda: bearer in tools.authorizations, "the token in a request")
        tools.click(".graphiql-execute-button")
        try:  # `"data": {`: a result, not the earlier "introspection needs a token" refusal
            text = tools.wait_for(
                f"(() => {{ const r = {EDITORS}.response || ''; "
                "return r.includes('\"data\": {') ? r : null; })()",
                "the result",
            )
        except AssertionError:
            pytest.fail(f"no result in the page; it shows {tools.evaluate(EDITORS)['response']!r}")
        finally:  # kept beside the test's files, to look at when it fails
            screenshot = tools.call("Page.captureScreenshot", format="png")
            (tmp_path / "explorer.png").write_bytes(base64.b64decode(screenshot["data"]))

        shown = json.loads(text)
        assert "errors" not in shown, shown
        assert shown == gql(first_query), "the page shows what the API answers"
        if "missions" in shown["data"]:
            assert shown["data"]["missions"]["totalCount"] > 0
        assert tools.blocked == [], "the page tried to reach another host"
        assert any(url.startswith(f"{origin}/graphql/static/") for url in tools.requested)
        assert tools.problems == []

        # The schema was fetched again with the token: the documentation explorer lists it.
        tools.click('[aria-label="Show Documentation Explorer"]')
        tools.wait_for(
            "(document.querySelector('.graphiql-doc-explorer') || {innerText: ''})"
            ".innerText.includes('MissionFilterInput')",
            "the schema in the documentation explorer",
        )

        # Every example is in the Examples menu; one opens in a new tab, with the token.
        examples = Explorer(ROOT / "schema" / "operations").examples()
        tools.click('[aria-label^="Examples"]')
        items = tools.wait_for(
            "[...document.querySelectorAll('.hub-example')].map(e => e.innerText)", "the menu"
        )
        assert items == [e.name for e in examples]
        tools.click(".hub-example:last-child")
        tools.wait_for(
            f"{EDITORS}.query === {json.dumps(examples[-1].query)}", "the example in a new tab"
        )
        assert tools.evaluate("document.querySelectorAll('.graphiql-tab').length") == 2
        assert company_token in tools.evaluate(EDITORS)["headers"]
        assert tools.problems == []
