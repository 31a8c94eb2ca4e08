"""What every simulated partner offers the contract test: a live server, faults, expectations."""

from __future__ import annotations

import abc
import base64
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, ClassVar

from starlette.applications import Starlette
from starlette.requests import Request

from connectors import Connector, ConnectorConfig, Coverage, RetryPolicy, get_connector
from tests.partners._server import FaultMiddleware, Faults, Hit, LiveServer
from tests.partners.catalogue import Mission, mission

__all__ = ["FAST_RETRIES", "Expected", "SimulatedPartner", "basic_auth_ok"]

# Small waits so the suite stays fast; Retry-After still decides when it is larger.
FAST_RETRIES = RetryPolicy(attempts=4, backoff_base=0.01, backoff_cap=0.05, max_wait=10.0)


@dataclass(frozen=True)
class Expected:
    """What a draft made from one catalogue mission must say, whatever the protocol."""

    external_id: str
    title: str
    start: date | None
    places: int | None
    organization: str | None
    city: str | None
    postal_code: str | None
    latitude: float | None
    longitude: float | None


class SimulatedPartner(abc.ABC):
    """A partner platform on loopback that speaks one real protocol, with switchable faults."""

    connector_name: ClassVar[str]
    coverage: ClassVar[Coverage]
    paged: ClassVar[bool] = True
    renamed_is_fatal: ClassVar[bool] = False  # a schema rename breaks our query (GraphQL)
    renamed_field: ClassVar[str] = ""  # then, the field the partner's error names
    us: ClassVar[bool] = False  # draw US cities from the catalogue
    default_count: ClassVar[int] = 30

    def __init__(self) -> None:
        self.count = self.default_count
        self.faults = Faults()
        self.hits: list[Hit] = []
        self.require_auth = True
        self._server: LiveServer | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> SimulatedPartner:
        app = FaultMiddleware(self.app(), lambda: self.faults, self.hits)
        self._server = LiveServer(app).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    def reset(self) -> None:
        """Back to a healthy partner with its default catalogue, between tests."""
        self.count = self.default_count
        self.faults = Faults()
        self.hits.clear()
        self.require_auth = True

    def resize(self, count: int) -> None:
        """Publish `count` missions of the catalogue."""
        self.count = count

    @property
    def url(self) -> str:
        assert self._server is not None, "the partner is not started"
        return self._server.url

    # -- what the contract test uses ----------------------------------------------------------

    @abc.abstractmethod
    def app(self) -> Starlette:
        """The partner's HTTP API."""

    @abc.abstractmethod
    def config(self) -> ConnectorConfig:
        """A working configuration, with the right credentials."""

    @abc.abstractmethod
    def bad_credentials(self) -> ConnectorConfig:
        """A configuration whose credentials the partner refuses."""

    @abc.abstractmethod
    def external_id(self, mission: Mission) -> str:
        """The id the connector should give this mission."""

    @property
    @abc.abstractmethod
    def malformed_count(self) -> int:
        """How many unreadable records the `malformed` fault mixes in, at `count`."""

    def connector(self, **changes: Any) -> Connector:
        return get_connector(self.connector_name)(replace(self.config(), **changes))

    def missions(self) -> list[Mission]:
        return [mission(i, us=self.us) for i in range(self.count)]

    def expected(self, m: Mission) -> Expected:
        return Expected(
            external_id=self.external_id(m),
            title=m.title,
            start=m.start,
            places=m.places,
            organization=m.org_name,
            city=m.city.name,
            postal_code=m.city.postal_code,
            latitude=m.city.latitude,
            longitude=m.city.longitude,
        )


def basic_auth_ok(request: Request, username: str, password: str) -> bool:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return request.headers.get("authorization") == f"Basic {token}"
