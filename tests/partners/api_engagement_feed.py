"""A partner publishing an API Engagement XML feed, with the drift real partners produce.

GET /feed.xml streams `<source>` with one `<mission>` per catalogue mission, generated as it is
sent (a 20,000-mission feed is never held whole). Its healthy output already drifts the way
real feeds do, so that the connector reads drift on every run: dates ISO, ISO with time, or
month-first slashes; lists comma-separated or as `<value>` children; a domain as a label; a
point as `<lonlat>` "lon,lat"; a postal code that lost its leading zero. HTTP Basic auth when
`require_auth` is set. GET /samples/{name} serves the shared samples; `document` replaces the
feed with a handcrafted one, `document_path` with a file (`render_to` writes the generated feed
to one: a benchmark then measures the client, not the generator).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from typing import ClassVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import Route

from connectors import ConnectorConfig, Coverage
from tests.partners.base import FAST_RETRIES, SimulatedPartner, basic_auth_ok
from tests.partners.catalogue import Mission, mission

__all__ = ["BILLION_LAUGHS", "EXTERNAL_ENTITY", "ApiEngagementFeed", "render_mission"]

DATA = Path(__file__).parent / "data"
USERNAME, PASSWORD = "partenaire", "s3cret"
HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<source>\n'
    "  <publisher><![CDATA[Réseau Entraide Exemple]]></publisher>\n"
    "  <publisherurl><![CDATA[https://partner.example]]></publisherurl>\n"
    "  <lastBuildDate><![CDATA[Mon, 05 Jan 2026 09:00:00 GMT]]></lastBuildDate>\n"
)
FOOTER = "</source>\n"
_LOL = "\n".join(
    [' <!ENTITY lol "lol">']
    + [f' <!ENTITY lol{i} "' + f"&lol{i - 1 if i > 1 else ''};" * 10 + '">' for i in range(1, 10)]
)
BILLION_LAUGHS = (
    f'<?xml version="1.0"?>\n<!DOCTYPE source [\n{_LOL}\n]>\n'
    "<source><mission><clientId>B1</clientId><title>&lol9;</title></mission></source>\n"
).encode()
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?>\n<!DOCTYPE source [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    b"<source><mission><clientId>X1</clientId><title>&xxe;</title>"
    b"<applicationUrl>https://partner.example/x1</applicationUrl></mission></source>\n"
)


def cdata(value: object) -> str:
    return f"<![CDATA[{value}]]>"


def _date(day: date, index: int) -> str:
    """ISO, ISO with time, or month-first slashes: API Engagement's own reading of 01/11/2025."""
    return (day.isoformat(), f"{day.isoformat()}T00:00:00.000Z", day.strftime("%m/%d/%Y"))[
        index % 3
    ]


def _list(name: str, values: tuple[str, ...], index: int) -> str:
    if index % 2:
        inner = "".join(f"<value>{cdata(v)}</value>" for v in values)
        return f"<{name}>{inner}</{name}>"
    return f"<{name}>{cdata(','.join(values))}</{name}>"


def _address(m: Mission, *, renamed: bool) -> str:
    city = m.city
    postal = city.postal_code.lstrip("0") if city.postal_code.startswith("0") else city.postal_code
    point = (
        f"<lonlat>{city.longitude},{city.latitude}</lonlat>"
        if m.index % 5 == 4
        else f"<location><lat>{city.latitude}</lat><lon>{city.longitude}</lon></location>"
    )
    body = (
        f"<street>{cdata(m.street)}</street><postalCode>{cdata(postal)}</postalCode>"
        f"<city>{cdata(city.name)}</city><departmentCode>{city.department}</departmentCode>"
        f"<region>{cdata(city.region)}</region><country>France</country>{point}"
    )
    if renamed:  # drift: one <adresse> on the mission, no <addresses> container
        return f"<adresse>{body}</adresse>"
    return f"<addresses><address>{body}</address></addresses>"


def render_mission(
    m: Mission, *, renamed: bool = False, title: str | None = None, start: str | None = None
) -> str:
    """One `<mission>`, as a partner's export would write it."""
    domain = m.domain_label if m.index % 4 == 3 else m.domain
    rna_tag = "organizationRna" if renamed else "organizationRNA"
    title_xml = "" if title == "" else f"<title>{cdata(title or m.title)}</title>"
    return (
        "  <mission>"
        f"{title_xml}<clientId>{cdata(m.id)}</clientId>"
        f"<description>{cdata(m.description_html)}</description>"
        f"<applicationUrl>{cdata(m.url)}</applicationUrl>"
        f"<postedAt>{_date(m.posted, m.index)}</postedAt>"
        f"<startAt>{start or _date(m.start, m.index)}</startAt>"
        f"<endAt>{_date(m.end, m.index)}</endAt>"
        f"{_address(m, renamed=renamed)}"
        f"<schedule>{cdata(m.schedule)}</schedule><places>{m.places}</places>"
        f"<activity>{cdata(m.activity)}</activity><remote>{m.remote}</remote>"
        f"<type>{m.kind}</type><domain>{cdata(domain)}</domain>"
        f"{_list('tags', m.tags, m.index)}{_list('softSkills', m.soft_skills, m.index)}"
        f"<audience>{cdata(','.join(m.audience))}</audience>"
        f"<openToMinors>{'yes' if m.index % 2 else 'no'}</openToMinors>"
        f"<organizationName>{cdata(m.org_name)}</organizationName>"
        f"<{rna_tag}>{m.org_rna}</{rna_tag}><organizationSiren>{m.org_siren}</organizationSiren>"
        f"<organizationClientId>{cdata(m.org_rna)}</organizationClientId>"
        "</mission>\n"
    )


def _malformed(m: Mission, kind: int) -> str:
    """Three ways a partner's record cannot be read: no id, an impossible date, no title."""
    if kind == 0:
        return render_mission(m).replace(f"<clientId>{cdata(m.id)}</clientId>", "")
    if kind == 1:
        return render_mission(m, start="31/31/2026")
    return render_mission(m, title="")


class ApiEngagementFeed(SimulatedPartner):
    connector_name = "api-engagement-xml"
    coverage = Coverage.SNAPSHOT
    paged = False
    default_count = 30
    malformed_every: ClassVar[int] = 10

    def __init__(self) -> None:
        super().__init__()
        self.require_auth = False
        self.document: bytes | None = None
        self.document_path: Path | None = None

    def reset(self) -> None:
        super().reset()
        self.require_auth = False
        self.document = None
        self.document_path = None

    def render_to(self, path: Path) -> int:
        """Write the feed as GET /feed.xml would generate it now to `path` (in flat memory);
        returns its size in bytes."""
        with path.open("wb") as out:
            for chunk in self._encoded():
                out.write(chunk)
        return path.stat().st_size

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/feed.xml", self._feed),
                Route("/samples/{name}", self._sample),
            ]
        )

    def config(self) -> ConnectorConfig:
        return ConnectorConfig(
            url=f"{self.url}/feed.xml",
            username=USERNAME,
            password=PASSWORD,
            timeout=5.0,
            retry=FAST_RETRIES,
        )

    def bad_credentials(self) -> ConnectorConfig:
        return ConnectorConfig(
            url=f"{self.url}/feed.xml", username=USERNAME, password="wrong", retry=FAST_RETRIES
        )

    def external_id(self, mission: Mission) -> str:
        return mission.id

    @property
    def malformed_count(self) -> int:
        return len(range(4, self.count, self.malformed_every))

    async def _sample(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in {p.name for p in DATA.iterdir()}:
            return Response(status_code=404)
        return FileResponse(DATA / name, media_type="application/xml")

    async def _feed(self, request: Request) -> Response:
        if self.require_auth and not basic_auth_ok(request, USERNAME, PASSWORD):
            return Response(
                "authentication required",
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="feed"'},
            )
        if self.faults.bomb == "billion-laughs":
            return Response(BILLION_LAUGHS, media_type="application/xml")
        if self.faults.bomb == "external-entity":
            return Response(EXTERNAL_ENTITY, media_type="application/xml")
        if self.document is not None:
            return Response(self.document, media_type="application/xml")
        if self.document_path is not None:
            return FileResponse(self.document_path, media_type="application/xml")
        return StreamingResponse(self._chunks(), media_type="application/xml")

    async def _chunks(self) -> AsyncIterator[bytes]:
        for chunk in self._encoded():
            yield chunk

    def _encoded(self) -> Iterator[bytes]:
        """The document in chunks of about 32 KiB, as a file server sends a big file."""
        buffer: list[str] = []
        size = 0
        for text in self._pieces():
            buffer.append(text)
            size += len(text)
            if size >= 32 * 1024:
                yield "".join(buffer).encode()
                buffer, size = [], 0
        yield "".join(buffer).encode()

    def _pieces(self) -> Iterator[str]:
        faults = self.faults
        yield HEADER
        for index in range(self.count):
            m = mission(index)
            text = render_mission(m, renamed=faults.renamed)
            if faults.truncate and index == self.count // 2:
                yield text[: len(text) // 2]  # the export died mid-mission
                return
            yield text
            if faults.malformed and index % self.malformed_every == 4:
                yield _malformed(mission(10_000 + index), index // self.malformed_every % 3)
        if faults.duplicates:
            yield render_mission(mission(3))
        yield FOOTER
