"""Reading one record through a mapping: source paths, named transforms, the unified draft."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from jmespath.exceptions import JMESPathError

from connectors._identifiers import rna, siren_siret
from connectors._parse import (
    DateOrder,
    Malformed,
    country_code,
    parse_bool,
    parse_datetime,
    parse_float,
    parse_int,
    parse_lonlat,
    place_point,
    postal_code,
    scalar_text,
    texts,
)
from connectors.contract import Close, Outcome, Refused
from connectors.mapping import FIELDS, FieldSpec, Kind, PartnerMapping, Transform, compiled
from hub.catalogue.model import (
    CommitmentKind,
    EngagementType,
    Location,
    MissionDraft,
    OrganizationDraft,
    Remote,
)

__all__ = ["read_record"]

_ENUMS: dict[str, type[enum.StrEnum]] = {
    "engagement_type": EngagementType,
    "remote": Remote,
    "commitment_kind": CommitmentKind,
}
_DEPARTMENT = re.compile(r"(?:\d{2,3}|2[AB])", re.IGNORECASE)


def read_record(raw: object, mapping: PartnerMapping, order: DateOrder) -> Outcome:
    """One raw record as a draft, a closure or a refusal; pure and total."""
    if not isinstance(raw, Mapping):
        kind = "null" if raw is None else type(raw).__name__
        return Refused(None, f"the record is {kind}, not an object")
    reader = _Reader(mapping, order)
    try:
        external_id = reader.required("external_id", raw)
    except Malformed as exc:
        return Refused(None, str(exc))
    close = mapping.close
    if close is not None and _truthy(compiled(close.when).search(raw)):
        return Close(external_id, close.reason)
    try:
        return reader.draft(raw, external_id)
    except Malformed as exc:
        return Refused(external_id, str(exc))


def _truthy(value: Any) -> bool:
    """JMESPath's truth, except that a boolean word ("false", "non") says what it means."""
    if isinstance(value, str):
        word = parse_bool(value)
        return word if word is not None else bool(value.strip())
    return value is not False and not _empty(value)


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | dict) and not value


class _Reader:
    __slots__ = ("_fields", "_mapping", "_order")

    def __init__(self, mapping: PartnerMapping, order: DateOrder) -> None:
        self._mapping = mapping
        self._fields = mapping.fields
        self._order = order

    def draft(self, raw: Mapping[str, Any], external_id: str) -> MissionDraft:
        return MissionDraft(
            external_id=external_id,
            title=self.required("title", raw),
            application_url=self.read("application_url", raw),
            description_html=self.read("description_html", raw),
            description=self.read("description", raw),
            tags=self.read("tags", raw) or [],
            engagement_type=self.read("engagement_type", raw) or EngagementType.VOLUNTEERING,
            remote=self.read("remote", raw) or Remote.NONE,
            locations=self._locations(raw),
            causes=self.read("causes", raw) or [],
            skills=self.read("skills", raw) or [],
            audience=self.read("audience", raw) or [],
            start_at=self.read("start_at", raw),
            end_at=self.read("end_at", raw),
            posted_at=self.read("posted_at", raw),
            hours_per_week_min=self.read("hours_per_week_min", raw),
            hours_per_week_max=self.read("hours_per_week_max", raw),
            total_hours=self.read("total_hours", raw),
            commitment_kind=self.read("commitment_kind", raw),
            schedule_label=self.read("schedule_label", raw),
            places_total=self.read("places_total", raw),
            places_remaining=self.read("places_remaining", raw),
            organization=self._organization(raw),
            open_to_minors=self.read("open_to_minors", raw),
            reduced_mobility_accessible=self.read("reduced_mobility_accessible", raw),
        )

    def required(self, name: str, node: Any) -> str:
        value = self.read(name, node)
        if value is None:
            spec = self._fields[name]
            where = " or ".join(spec.path) or "its constant"
            raise Malformed(f"missing {name} (read from {where})")
        return str(value)

    def read(self, name: str, node: Any) -> Any:
        """The field's value from `node`: first non-empty path, transforms, then its kind."""
        spec = self._fields.get(name)
        if spec is None:
            return None
        value: Any = None
        for path in spec.path:
            try:
                found = compiled(path).search(node)
            except JMESPathError as exc:  # e.g. join() over a number: this record's shape
                raise Malformed(f"{name}: {path!r} cannot read this record ({exc})") from exc
            if not _empty(found):
                value = found
                break
        if value is None and Transform.CONSTANT not in spec.transform:
            value = spec.value
        for transform in spec.transform:
            value = self._transform(transform, value, spec, name)
        return self._as_kind(name, value, spec)

    def _transform(self, transform: Transform, value: Any, spec: FieldSpec, name: str) -> Any:
        if transform is Transform.CONSTANT:
            return spec.value
        if value is None:
            return None
        if transform is Transform.DATE:
            return self._date(value, spec, name, strptime=True)
        if transform is Transform.SPLIT:
            out: list[str] = []
            for text in texts(value):  # a string, a list, or XML <value> children
                out += [part.strip() for part in text.split(spec.separator) if part.strip()]
            return out
        if transform is Transform.LABELS:
            if isinstance(value, list):
                return [_label(item, spec.labels, spec.unlisted) for item in value]
            return _label(value, spec.labels, spec.unlisted)
        if transform is Transform.LONLAT:
            return parse_lonlat(value)
        if transform is Transform.BOOLEAN:
            if not spec.true and not spec.false:
                return parse_bool(value)
            text = (scalar_text(value) or "").casefold()
            if text in {word.casefold() for word in spec.true}:
                return True
            return False if text in {word.casefold() for word in spec.false} else None
        raise AssertionError(transform)  # pragma: no cover: every transform is handled above

    def _date(self, value: Any, spec: FieldSpec, name: str, *, strptime: bool) -> datetime | None:
        if isinstance(value, datetime):
            return value
        if spec.format is None or not strptime:
            try:
                return parse_datetime(value, spec.order or self._order)
            except Malformed as exc:
                raise Malformed(f"{name}: {exc}") from exc
        text = scalar_text(value)
        if text is None:
            return None
        try:
            parsed = datetime.strptime(text, spec.format)
        except ValueError as exc:
            raise Malformed(
                f"{name}: impossible date {text!r} (expected the format {spec.format!r})"
            ) from exc
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)

    def _as_kind(self, name: str, value: Any, spec: FieldSpec) -> Any:
        kind = FIELDS[name]
        if kind in (Kind.TEXT, Kind.REQUIRED):
            return scalar_text(value)
        if kind is Kind.TEXTS:
            return texts(value)
        if kind is Kind.DATE:
            return self._date(value, spec, name, strptime=False)
        if kind is Kind.NUMBER:
            return parse_float(value)
        if kind is Kind.INTEGER:
            return parse_int(value)
        if kind is Kind.BOOLEAN:
            return parse_bool(value)
        if kind is Kind.POINT:
            return value if isinstance(value, tuple) else parse_lonlat(value)
        return _enum(name, value)

    def _locations(self, raw: Mapping[str, Any]) -> list[Location]:
        if not any(name.startswith("location.") for name in self._fields):
            return []
        nodes: list[Any] = [raw]
        if self._mapping.locations is not None:
            found = compiled(self._mapping.locations).search(raw)
            nodes = found if isinstance(found, list) else [] if _empty(found) else [found]
        places = [self._location(node) for node in nodes if isinstance(node, Mapping)]
        return [place for place in places if place is not None]

    def _location(self, node: Mapping[str, Any]) -> Location | None:
        country = country_code(self.read("location.country", node))
        french = country == "FR"
        latitude = self.read("location.latitude", node)
        longitude = self.read("location.longitude", node)
        if latitude is None or longitude is None:
            pair = self.read("location.coordinates", node)
            latitude, longitude = pair if pair is not None else (None, None)
        department = self.read("location.department_code", node)
        location = Location(
            street=self.read("location.street", node),
            postal_code=postal_code(self.read("location.postal_code", node), french=french),
            city=self.read("location.city", node),
            department_code=department.upper()
            if department and _DEPARTMENT.fullmatch(department)
            else None,
            region=self.read("location.region", node),
            country=country,
        )
        point = place_point(latitude, longitude, in_france=french)
        if point is not None:
            location.latitude, location.longitude, location.geo_source = point
        where = (location.street, location.postal_code, location.city, location.latitude)
        return None if all(value is None for value in where) else location

    def _organization(self, raw: Mapping[str, Any]) -> OrganizationDraft | None:
        name = self.read("organization.name", raw)
        if name is None:
            return None  # identifiers without a name cannot make an organization
        siren, siret = siren_siret(
            self.read("organization.siren", raw), self.read("organization.siret", raw)
        )
        return OrganizationDraft(
            name=name,
            rna=rna(self.read("organization.rna", raw)),
            siren=siren,
            siret=siret,
            url=self.read("organization.url", raw),
            logo=self.read("organization.logo", raw),
        )


def _label(value: Any, labels: Mapping[str, Any], unlisted: Any) -> Any:
    text = scalar_text(value)
    if text is None:
        return value
    if text in labels:
        return labels[text]
    folded = text.casefold()
    for label, ours in labels.items():
        if label.casefold() == folded:
            return ours
    return value if unlisted is None else unlisted


def _enum(name: str, value: Any) -> enum.StrEnum | None:
    choices = _ENUMS[name]
    text = scalar_text(value)
    if text is None:
        return None
    try:
        return choices(text.upper().replace("-", "_").replace(" ", "_"))
    except ValueError:
        valid = ", ".join(member.value for member in choices)
        raise Malformed(
            f"{name}: {text!r} is not one of {valid} (map the partner's labels with `labels`)"
        ) from None
