"""Declarative partner mappings: how to ask a partner for its records and how to read them.

A mapping is data an operator writes (YAML or JSON) and the hub stores with the partner, so that
a partner whose API drifts (a renamed field, another date format) is adapted without a code
change, in the manner of Airbyte's low-code connectors and Singer SDK stream definitions. It
says, for its protocol, the request (a GraphQL document and its variables, a REST path and query
parameters, an XML record element), where the records are in a page, how pages follow each
other, and for each unified field one or more source paths (JMESPath; the first non-empty wins)
with at most a few named transforms. `PartnerMapping.parse` validates one; a bad key is named::

    protocol: graphql
    request:
      path: /graphql
      document: "query Q($input: In!) { missions(input: $input) { total items { id name } } }"
      page_variables: input
    records: missions.items
    paging: {kind: page-number, page: page, size: perPage, total: missions.total}
    fields:
      external_id: id
      title: name
      start_at: {path: schedule.from, transform: date}
      location.coordinates: {path: geo.lonlat, transform: lonlat}
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from importlib import resources
from typing import Any, Literal

import jmespath
import yaml
from graphql import GraphQLSyntaxError, parse
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from connectors._errors import ConfigError
from connectors._parse import DateOrder
from connectors.contract import Auth, PartnerFormat

__all__ = [
    "FIELDS",
    "AuthSpec",
    "CloseSpec",
    "FieldSpec",
    "Kind",
    "MappingError",
    "PagingSpec",
    "PartnerMapping",
    "RequestSpec",
    "Transform",
    "builtin_mapping",
    "compiled",
]


class MappingError(ConfigError):
    """A mapping that cannot be used; the message names the bad key."""


class Kind(enum.StrEnum):
    """How a unified field's value is read once found and transformed."""

    TEXT = "text"
    REQUIRED = "required text"
    TEXTS = "list of text"
    DATE = "date"
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    ENUM = "enum"
    POINT = "coordinates"


FIELDS: Mapping[str, Kind] = {
    "external_id": Kind.REQUIRED,
    "title": Kind.REQUIRED,
    "application_url": Kind.TEXT,
    "description_html": Kind.TEXT,
    "description": Kind.TEXT,
    "tags": Kind.TEXTS,
    "engagement_type": Kind.ENUM,
    "remote": Kind.ENUM,
    "causes": Kind.TEXTS,
    "skills": Kind.TEXTS,
    "audience": Kind.TEXTS,
    "start_at": Kind.DATE,
    "end_at": Kind.DATE,
    "posted_at": Kind.DATE,
    "hours_per_week_min": Kind.NUMBER,
    "hours_per_week_max": Kind.NUMBER,
    "total_hours": Kind.NUMBER,
    "commitment_kind": Kind.ENUM,
    "schedule_label": Kind.TEXT,
    "places_total": Kind.INTEGER,
    "places_remaining": Kind.INTEGER,
    "open_to_minors": Kind.BOOLEAN,
    "reduced_mobility_accessible": Kind.BOOLEAN,
    "location.street": Kind.TEXT,
    "location.postal_code": Kind.TEXT,
    "location.city": Kind.TEXT,
    "location.department_code": Kind.TEXT,
    "location.region": Kind.TEXT,
    "location.country": Kind.TEXT,
    "location.latitude": Kind.NUMBER,
    "location.longitude": Kind.NUMBER,
    "location.coordinates": Kind.POINT,
    "organization.name": Kind.TEXT,
    "organization.rna": Kind.TEXT,
    "organization.siren": Kind.TEXT,
    "organization.siret": Kind.TEXT,
    "organization.url": Kind.TEXT,
    "organization.logo": Kind.TEXT,
}
"""Every unified field a mapping may set, and how its value is read."""

_SIMPLE_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class Transform(enum.StrEnum):
    DATE = "date"  # a date: `format` (strptime) or the partner's date order
    SPLIT = "split"  # one string into a list, on `separator`
    LABELS = "labels"  # the partner's label to ours, through `labels`
    LONLAT = "lonlat"  # a "lon,lat" string (or [lon, lat]) to coordinates
    BOOLEAN = "boolean"  # words to a boolean: `true` and `false` word lists, or yes/oui/1...
    CONSTANT = "constant"  # `value`, whatever the record says


_CACHE: dict[str, ParsedResult] = {}


def compiled(expression: str) -> ParsedResult:
    """The JMESPath expression, compiled once."""
    found = _CACHE.get(expression)
    if found is None:
        found = _CACHE[expression] = jmespath.compile(expression)
    return found


def _check_path(expression: str) -> str:
    try:
        compiled(expression)
    except JMESPathError as exc:
        detail = " ".join(str(exc).split())
        raise ValueError(f"not a JMESPath expression: {expression!r} ({detail})") from None
    return expression


def _check_simple(path: str | None) -> str | None:
    if path is not None and not _SIMPLE_PATH.match(path):
        raise ValueError(f"a plain dotted path is expected (names and dots), got {path!r}")
    return path


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthSpec(_Strict):
    kind: Auth = Auth.NONE
    header: str = "x-api-key"  # for api-key-header


class RequestSpec(_Strict):
    path: str = ""  # appended to the partner's URL; "" for a feed at the URL itself
    document: str | None = None  # GraphQL: the operation
    variables: dict[str, Any] = Field(default_factory=dict)  # GraphQL: fixed variables
    page_variables: str | None = None  # GraphQL: the variable that takes the page parameters
    params: dict[str, str | int | float | bool] = Field(default_factory=dict)  # REST: fixed
    record_element: str | None = None  # XML: the repeated element
    root_element: str | None = None  # XML: the document element, checked
    html_elements: list[str] = Field(default_factory=list)  # XML: elements holding raw HTML

    @field_validator("document")
    @classmethod
    def _parses(cls, document: str | None) -> str | None:
        if document is not None:
            try:
                parse(document)
            except GraphQLSyntaxError as exc:
                raise ValueError(f"not a GraphQL document: {exc.message}") from None
        return document


class PagingSpec(_Strict):
    kind: Literal["page-number", "limit-skip", "since-cursor", "none"]
    page: str = "page"  # page-number: the page parameter
    size: str = "size"  # page-number: the page size parameter
    first_page: int = 1
    limit: str = "limit"  # limit-skip
    skip: str = "skip"
    total: str | None = None  # a dotted path to the total count in a page
    param: str = "since"  # since-cursor: the parameter
    cursor_field: str = "updated"  # since-cursor: the record field that is the cursor
    more: str = "hasMore"  # since-cursor: a dotted path to the "more pages" flag
    page_size: int | None = Field(default=None, ge=1, le=10_000)

    @field_validator("total", "more")
    @classmethod
    def _plain(cls, path: str | None) -> str | None:
        return _check_simple(path)


class FieldSpec(_Strict):
    """One unified field: where its value is, and the transforms it goes through, in order."""

    path: list[str] = Field(default_factory=list)  # JMESPath; the first non-empty value wins
    value: Any = None  # the constant (transform `constant`), or the value when all paths are empty
    transform: list[Transform] = Field(default_factory=list)
    format: str | None = None  # date: a strptime format, e.g. "%d/%m/%Y"
    order: DateOrder | None = None  # date: how slash dates are written, when no format
    separator: str = ","  # split
    labels: dict[str, Any] = Field(default_factory=dict)  # labels: partner label -> ours
    unlisted: Any = None  # labels: what a label not in `labels` becomes; None: kept as it is
    true: list[str] = Field(default_factory=list)  # boolean: the words that mean true
    false: list[str] = Field(default_factory=list)  # boolean: the words that mean false

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str | list):
            data = {"path": data}
        if isinstance(data, dict):
            data = dict(data)
            for key in ("path", "transform"):
                if isinstance(data.get(key), str):
                    data[key] = [data[key]]
        return data

    @field_validator("path")
    @classmethod
    def _paths(cls, paths: list[str]) -> list[str]:
        return [_check_path(path) for path in paths]

    @model_validator(mode="after")
    def _complete(self) -> FieldSpec:
        if not self.path and self.value is None:
            raise ValueError("a field needs a `path` or a constant `value`")
        if Transform.LABELS in self.transform and not self.labels:
            raise ValueError("the `labels` transform needs `labels: {partner label: ours}`")
        return self


class CloseSpec(_Strict):
    when: str  # JMESPath, true for a record whose mission is over
    reason: str = "closed by the partner"

    @field_validator("when")
    @classmethod
    def _path(cls, expression: str) -> str:
        return _check_path(expression)


class PartnerMapping(_Strict):
    """A partner's mapping, as stored; `parse` builds it from a loaded YAML or JSON document."""

    protocol: PartnerFormat
    auth: AuthSpec | None = None  # None: the connector's own
    request: RequestSpec = Field(default_factory=RequestSpec)
    records: str | None = None  # JMESPath to the list of records in a page
    paging: PagingSpec = Field(default_factory=lambda: PagingSpec(kind="none"))
    locations: str | None = None  # JMESPath to a list of places; location.* read in each
    fields: dict[str, FieldSpec]
    close: CloseSpec | None = None
    date_order: DateOrder | None = None  # the partner's slash dates, for every date field

    @field_validator("records", "locations")
    @classmethod
    def _paths(cls, expression: str | None) -> str | None:
        return expression if expression is None else _check_path(expression)

    @field_validator("fields")
    @classmethod
    def _known(cls, fields: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        unknown = sorted(set(fields) - set(FIELDS))
        if unknown:
            raise ValueError(
                f"unknown unified field {unknown[0]!r}; the fields are: {', '.join(FIELDS)}"
            )
        missing = [name for name in ("external_id", "title") if name not in fields]
        if missing:
            raise ValueError(f"the mapping must say where {missing[0]!r} is")
        return fields

    @model_validator(mode="after")
    def _fits_protocol(self) -> PartnerMapping:
        request = self.request
        if self.protocol is PartnerFormat.GRAPHQL and not request.document:
            raise ValueError("request.document: a graphql mapping needs its query")
        if self.protocol is PartnerFormat.XML_FEED:
            if not request.record_element:
                raise ValueError("request.record_element: an xml-feed mapping needs it")
            if self.paging.kind != "none":
                raise ValueError("paging: an xml-feed is one document, its kind is 'none'")
        elif self.paging.kind == "none":
            raise ValueError(f"paging: a {self.protocol} mapping needs a paging kind")
        return self

    @classmethod
    def parse(cls, document: object, *, source: str = "mapping") -> PartnerMapping:
        """Validate a loaded document; a `MappingError` names the first bad key."""
        if not isinstance(document, Mapping):
            raise MappingError(f"{source}: a mapping is an object of keys, not {document!r:.60}")
        try:
            return cls.model_validate(dict(document))
        except ValidationError as exc:
            raise MappingError(f"{source}: {_describe(exc)}") from None

    def document(self) -> dict[str, Any]:
        """The mapping as plain JSON data, without the defaults it did not set."""
        return self.model_dump(mode="json", exclude_defaults=True)


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors()[:3]:
        where = ".".join(str(part) for part in error["loc"]) or "mapping"
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "missing":
            message = "required key is missing"
        problems.append(f"{where}: {message}")
    more = len(exc.errors()) - len(problems)
    return "; ".join(problems) + (f" (and {more} more)" if more > 0 else "")


def builtin_mapping(name: str) -> PartnerMapping:
    """A built-in connector's default mapping, from connectors/mappings/NAME.yaml."""
    text = resources.files("connectors").joinpath(f"mappings/{name}.yaml").read_text("utf-8")
    return PartnerMapping.parse(yaml.safe_load(text), source=f"connectors/mappings/{name}.yaml")
