"""The hub's tables, as SQLAlchemy Core metadata (the migrations create them; reads use Core)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Computed,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.types import TypeDecorator

__all__ = [
    "audit_log",
    "clients",
    "engagement_costs",
    "engagement_history",
    "engagements",
    "hub_state",
    "label_mappings",
    "metadata",
    "mission_causes",
    "mission_dedup_keys",
    "mission_events",
    "mission_locations",
    "mission_skills",
    "missions",
    "organizations",
    "partners",
    "persisted_documents",
    "refused_records",
    "revoked_tokens",
    "signing_keys",
    "sync_runs",
    "trusted_issuers",
    "unmapped_labels",
    "webhook_deliveries",
    "webhooks",
]


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, whatever the database keeps (SQLite keeps naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; the hub only keeps UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # a value written by raw SQL on SQLite
            value = datetime.fromisoformat(value)
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

partners = Table(
    "partners",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", String(40), nullable=False, unique=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("connector", String(60)),
    Column("url", Text),
    Column("config", JSON, nullable=False, default=dict),
    Column("push_only", Boolean, nullable=False, default=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
    # Sync: how often, the connector's cursor state, and the health the scheduler keeps.
    Column("interval_seconds", Integer),
    Column("state", JSON, nullable=False, default=dict),
    Column("last_success_at", UTCDateTime),
    Column("failing_since", UTCDateTime),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("circuit_open_until", UTCDateTime),
    Column("last_error", Text),
    Column("last_good_snapshot_size", Integer),
    # A declarative mapping (connectors.mapping) replacing the connector's default; its version
    # counts the times it was set.
    Column("mapping", JSON),
    Column("mapping_version", Integer),
    Column("mapping_set_at", UTCDateTime),
    # The operator's ranking for merged missions: a listing of a lower `priority` is the one
    # shown (null: after every ranked partner). See hub.storage.duplicates.
    Column("priority", Integer),
)

organizations = Table(
    "organizations",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", String(40), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("rna", String(10), index=True),
    Column("siren", String(9), index=True),
    Column("siret", String(14), index=True),
    Column("url", Text),
    Column("logo", Text),
    Column("name_key", Text, nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # The partner whose write created it, the only one whose writes change it; a name alone
    # links a partner's missions to its own organizations only (hub.storage.organizations).
    Column("partner_pk", Integer, index=True),
)

# What a collapsed search shows: open listings not merged into another (partial indexes).
_SHOWN = "status = 'OPEN' AND canonical_pk IS NULL"


class ShownLabels(ColumnElement[Any]):
    """A list of the match state (`causes` or `skills`) as the database keeps it derived: a
    text array on PostgreSQL (through hub_json_texts, created by migration 0013), the JSON
    array itself on SQLite (a virtual column)."""

    inherit_cache = True

    def __init__(self, key: str) -> None:
        self.key = key


@compiles(ShownLabels, "postgresql")
def _shown_labels_postgresql(element: ShownLabels, compiler: Any, **kw: Any) -> str:
    return f"hub_json_texts(match_state -> '{element.key}')"


@compiles(ShownLabels, "sqlite")
def _shown_labels_sqlite(element: ShownLabels, compiler: Any, **kw: Any) -> str:
    return f"json_extract(match_state, '$.{element.key}')"


class PublishedOrganization(ColumnElement[Any]):
    """The organization name of the raw record, as the database keeps it derived."""

    inherit_cache = True


@compiles(PublishedOrganization, "postgresql")
def _published_postgresql(element: PublishedOrganization, compiler: Any, **kw: Any) -> str:
    return "raw ->> 'organization_name'"


@compiles(PublishedOrganization, "sqlite")
def _published_sqlite(element: PublishedOrganization, compiler: Any, **kw: Any) -> str:
    return "json_extract(raw, '$.organization_name')"


_LABELS = ARRAY(Text).with_variant(Text(), "sqlite")

missions = Table(
    "missions",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", String(40), nullable=False, unique=True),
    Column("partner_pk", Integer, ForeignKey("partners.pk"), nullable=False),
    Column("external_id", String(200), nullable=False),
    Column("application_url", Text),
    Column("title", Text, nullable=False),
    Column("description", Text),
    Column("description_html", Text),
    Column("tags", JSON, nullable=False, default=list),
    Column("engagement_type", String(30), nullable=False),
    Column("remote", String(10), nullable=False),
    Column("audience", JSON, nullable=False, default=list),
    Column("start_at", UTCDateTime),
    Column("end_at", UTCDateTime),
    Column("posted_at", UTCDateTime),
    Column("hours_per_week_min", Float),
    Column("hours_per_week_max", Float),
    Column("total_hours", Float),
    Column("commitment_kind", String(20)),
    Column("schedule_label", Text),
    Column("places_total", Integer),
    Column("places_remaining", Integer),
    Column("organization_pk", Integer, ForeignKey("organizations.pk")),
    Column("open_to_minors", Boolean),
    Column("reduced_mobility_accessible", Boolean),
    Column("status", String(10), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    # Keys that make orders and keyset cursors total and stable (never null).
    Column("sort_date", UTCDateTime, nullable=False),
    # The hub's folded, stemmed text (hub.catalogue.text.search_text); FTS5 or tsvector index it.
    Column("search_text", Text, nullable=False, default=""),
    # The folded title tokens between spaces: " a b c ", for the relevance score.
    Column("title_terms", Text, nullable=False, default=""),
    Column("raw", JSON, nullable=False, default=dict),
    # What the in-memory matcher needs of the current state; copied into the next event's
    # `previous` so that subscribers can tell "entered my filter" from "left it".
    Column("match_state", JSON, nullable=False, default=dict),
    Column("content_hash", String(64), nullable=False),
    # The causes and skills the listing is found by and shows, read from its match state: its
    # own, or for an open listing shown for a merged mission its open listings' union
    # (hub.storage.match_states.merge_cluster_labels keeps it). Derived by the database, so no
    # write can let them drift: a search tests them on the row instead of probing two indexes.
    Column("shown_causes", _LABELS, Computed(ShownLabels("causes"))),
    Column("shown_skills", _LABELS, Computed(ShownLabels("skills"))),
    # The organization name the partner published (a listing alone shows it), from `raw`.
    Column("published_organization", Text, Computed(PublishedOrganization())),
    # Set when this listing is the same mission as an older one on another partner (dedup).
    Column("canonical_pk", Integer, ForeignKey("missions.pk")),
    # The golden record of the merged mission this listing shows, as JSON text (hub.storage.
    # golden_rows); NULL when it shows no merged mission.
    Column("golden", Text),
    # Offset-paged pulls are not snapshots: a mission closes after two complete syncs missing it.
    Column("missed_syncs", Integer, nullable=False, default=0),
    UniqueConstraint("partner_pk", "external_id"),
    # The members of merged missions only (migration 0014): a collapsed search's
    # `canonical_pk IS NULL` is the shown listings' partial indexes' to answer, never this one's.
    Index(
        "ix_missions_canonical_pk",
        "canonical_pk",
        postgresql_where=text("canonical_pk IS NOT NULL"),
        sqlite_where=text("canonical_pk IS NOT NULL"),
    ),
    Index("ix_missions_status_sort", "status", "sort_date", "pk"),
    # The listings a collapsed search shows (open, not merged into another), in their newest-
    # first order, and by remote mode first: an intranet's "fully remote" page reads only them.
    Index(
        "ix_missions_shown_sort",
        "sort_date",
        "pk",
        postgresql_where=text(_SHOWN),
        sqlite_where=text(_SHOWN),
    ),
    Index(
        "ix_missions_shown_remote_sort",
        "remote",
        "sort_date",
        "pk",
        postgresql_where=text(_SHOWN),
        sqlite_where=text(_SHOWN),
    ),
    Index("ix_missions_start_at", "start_at"),
    Index("ix_missions_updated_at", "updated_at"),
    Index("ix_missions_organization_pk", "organization_pk"),
)

mission_locations = Table(
    "mission_locations",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("mission_pk", Integer, ForeignKey("missions.pk", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("street", Text),
    Column("postal_code", String(10)),
    Column("city", Text),
    Column("department_code", String(3)),
    Column("region", Text),
    Column("country", String(2)),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("geo_source", String(20), nullable=False),
    Index("ix_mission_locations_mission_pk", "mission_pk"),
    Index("ix_mission_locations_lat_lon", "latitude", "longitude"),
    Index("ix_mission_locations_postal_code", "postal_code"),
    Index("ix_mission_locations_department_code", "department_code"),
)

mission_causes = Table(
    "mission_causes",
    metadata,
    Column(
        "mission_pk",
        Integer,
        ForeignKey("missions.pk", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("cause", String(40), primary_key=True),
    Index("ix_mission_causes_cause", "cause", "mission_pk"),
)

mission_skills = Table(
    "mission_skills",
    metadata,
    Column(
        "mission_pk",
        Integer,
        ForeignKey("missions.pk", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("skill", String(60), primary_key=True),
    Index("ix_mission_skills_skill", "skill", "mission_pk"),
)

# The keys the duplicate linking finds a listing by (hub.storage.duplicate_keys): a listing
# being written reads the open listings sharing one of its probe keys, through this index.
mission_dedup_keys = Table(
    "mission_dedup_keys",
    metadata,
    Column("key", String(200), primary_key=True),
    # The listing's partner: a partner's own listings are never its candidates.
    Column("partner_pk", Integer, primary_key=True),
    Column(
        "mission_pk",
        Integer,
        ForeignKey("missions.pk", ondelete="CASCADE"),
        primary_key=True,
    ),
    Index("ix_mission_dedup_keys_mission_pk", "mission_pk"),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("partner_pk", Integer, ForeignKey("partners.pk"), nullable=False),
    Column("kind", String(10), nullable=False),  # PULL or PUSH
    Column("status", String(20), nullable=False),  # RUNNING, SUCCEEDED, FAILED, SUSPICIOUS
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("counts", JSON, nullable=False, default=dict),
    Column("error", Text),
    # Written by a RUNNING run while it lives (hub's clock): a silent one's process is gone.
    Column("heartbeat_at", UTCDateTime),
    Index("ix_sync_runs_partner_started", "partner_pk", "started_at"),
)

# The ordered change-event log (outbox): one row per create, update or close, written in the
# same transaction as the change. `seq` is the log position a cursor encodes.
mission_events = Table(
    "mission_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("mission_pk", Integer, ForeignKey("missions.pk"), nullable=False),
    # PUBLISHED, UPDATED, CLOSED for a mission; ENGAGEMENT_CREATED, _UPDATED, _ERASED for an
    # engagement (then engagement_pk is set, and mission_pk is the listing it is on).
    Column("type", String(30), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    # The matchable state before the change (None for a creation): lets each subscriber tell
    # "entered my filter" from "left it" without another read.
    Column("previous", JSON),
    # The matchable state after the change: with `previous`, a replayed event can be judged
    # against any subscriber's filter exactly as it was judged live.
    Column("state", JSON),
    Column("engagement_pk", Integer, ForeignKey("engagements.pk")),
    Index("ix_mission_events_occurred_at", "occurred_at"),
    Index("ix_mission_events_engagement_pk", "engagement_pk"),
    sqlite_autoincrement=True,  # positions are never reused, even after pruning
)

# Small facts the hub keeps about itself, e.g. how far the event log was pruned.
hub_state = Table(
    "hub_state",
    metadata,
    Column("key", String(60), primary_key=True),
    Column("value", JSON, nullable=False),
)

# --- OAuth clients, keys, tokens ---------------------------------------------------------------

clients = Table(
    "clients",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", String(60), nullable=False, unique=True),  # the OAuth client_id
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),  # company, partner, admin
    Column("secret_hash", Text),  # argon2; null for clients known only through an issuer
    Column("scopes", JSON, nullable=False, default=list),
    Column("partner_pk", Integer, ForeignKey("partners.pk")),
    Column("policy", JSON, nullable=False, default=dict),
    Column("trusted_documents_only", Boolean, nullable=False, default=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("secret_rotated_at", UTCDateTime),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("kid", String(64), nullable=False, unique=True),
    Column("private_jwk", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # Set when a newer key takes over: the key then verifies, never signs, and leaves the JWKS
    # once every token it signed has expired.
    Column("retired_at", UTCDateTime),
)

revoked_tokens = Table(
    "revoked_tokens",
    metadata,
    Column("jti", String(100), primary_key=True),
    Column("client_id", String(60), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=False),
)

trusted_issuers = Table(
    "trusted_issuers",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("issuer", Text, nullable=False),
    Column("jwks_url", Text, nullable=False),
    Column("audience", Text, nullable=False),
    Column("client_claim", String(20), nullable=False),  # client_id, azp or sub
    Column("client_value", Text, nullable=False),  # the claim's value naming the client
    Column("client_pk", Integer, ForeignKey("clients.pk"), nullable=False),
    UniqueConstraint("issuer", "client_claim", "client_value"),
)

persisted_documents = Table(
    "persisted_documents",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("sha256", String(64), nullable=False),
    # Null: an automatic persisted query anyone may use; else a trusted document of a client.
    Column("client_pk", Integer, ForeignKey("clients.pk")),
    Column("name", String(200)),
    Column("document", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("sha256", "client_pk"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("event", String(40), nullable=False),  # token.issued, token.denied, token.revoked...
    Column("client_id", String(60)),
    Column("detail", JSON, nullable=False, default=dict),
    Index("ix_audit_log_at", "at"),
)

# --- what partners sent that the hub refused, and labels it could not map ----------------------

refused_records = Table(
    "refused_records",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("partner_pk", Integer, ForeignKey("partners.pk"), nullable=False),
    Column("external_id", String(200)),
    Column("reason", Text, nullable=False),
    Column("source", String(10), nullable=False),  # PULL or PUSH
    Column("sync_run_pk", Integer, ForeignKey("sync_runs.pk")),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_refused_records_partner_at", "partner_pk", "at"),
)

unmapped_labels = Table(
    "unmapped_labels",
    metadata,
    Column("partner_pk", Integer, ForeignKey("partners.pk"), primary_key=True),
    Column("kind", String(10), primary_key=True),  # cause or skill
    Column("label", String(200), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
)

# The operator's label mappings: a partner's own (partner_pk set) or global synonyms (null),
# looked up before the built-in taxonomy. `label_key` is hub.catalogue.taxonomy.label_key(label).
label_mappings = Table(
    "label_mappings",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("partner_pk", Integer, ForeignKey("partners.pk")),
    Column("kind", String(10), nullable=False),  # cause or skill
    Column("label", String(200), nullable=False),
    Column("label_key", String(200), nullable=False),
    Column("target", String(60), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("partner_pk", "kind", "label_key"),
)

# --- engagements: an employee's interest in a mission, followed to the hours given -------------

engagements = Table(
    "engagements",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", String(40), nullable=False, unique=True),
    # The listing the employee was sent to (the company's preferred partner's, when several).
    Column("mission_pk", Integer, ForeignKey("missions.pk"), nullable=False),
    Column("partner_pk", Integer, ForeignKey("partners.pk"), nullable=False),
    Column("company_pk", Integer, ForeignKey("clients.pk"), nullable=False),
    # Pseudonymous, chosen by the company; "erased-..." once the company asked for erasure.
    Column("employee_ref", String(200), nullable=False),
    Column("site", String(100)),
    Column("department", String(100)),
    Column("team", String(100)),
    Column("status", String(20), nullable=False),
    Column("source", String(10), nullable=False),  # TRACKED (a partner's) or DECLARED
    Column("message", Text),
    Column("hours_planned", Float),
    Column("hours_given", Float),
    Column("start_at", UTCDateTime),
    Column("end_at", UTCDateTime),
    Column("completed_at", UTCDateTime),
    # The mission's primary cause and skill and its organization when the engagement began:
    # a report does not change when the listing does.
    Column("cause", String(40)),
    Column("skill", String(60)),
    Column("organization_pk", Integer, ForeignKey("organizations.pk")),
    Column("link_token", String(64), unique=True),
    Column("link_expires_at", UTCDateTime),
    Column("clicked_at", UTCDateTime),
    Column("contact_sealed", Text),  # Fernet token (hub.engagement.contact)
    Column("contact_erased_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_engagements_company_created", "company_pk", "created_at"),
    Index("ix_engagements_company_employee", "company_pk", "employee_ref"),
    Index("ix_engagements_partner_pk", "partner_pk"),
    Index("ix_engagements_mission_pk", "mission_pk"),
)

engagement_history = Table(
    "engagement_history",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column(
        "engagement_pk",
        Integer,
        ForeignKey("engagements.pk", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(10), nullable=False),  # COMPANY, PARTNER or HUB
    Column("status", String(20), nullable=False),
    Column("hours_given", Float),
    Column("note", Text),
    Index("ix_engagement_history_engagement_pk", "engagement_pk"),
)

# A company's hourly costs for the report: kind DEFAULT (label ""), SITE or DEPARTMENT (the
# label), and TURNOVER (label "", amount the annual turnover) for the tax estimate's cap.
engagement_costs = Table(
    "engagement_costs",
    metadata,
    Column("company_pk", Integer, ForeignKey("clients.pk"), primary_key=True),
    Column("kind", String(12), primary_key=True),
    Column("label", String(100), primary_key=True),
    Column("amount", Float, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# --- Webhooks: an outbox per endpoint ------------------------------------------------------------

# A company's (or a partner's) endpoint; `cursor` is the event-log position up to which its
# deliveries are queued, so queuing resumes there after a restart.
webhooks = Table(
    "webhooks",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", String(40), nullable=False, unique=True),
    Column("client_pk", Integer, ForeignKey("clients.pk"), nullable=False),
    Column("partner_pk", Integer, ForeignKey("partners.pk")),  # set for a partner's webhook
    Column("url", Text, nullable=False),
    Column("events", JSON, nullable=False),  # the event types it receives
    Column("filter", JSON, nullable=False),  # a MissionFilter (hub.webhooks.filters)
    Column("secret", Text, nullable=False),  # signs (HMAC: kept as is, like a signing key)
    Column("previous_secret", Text),  # also signs until previous_secret_until (a rotation)
    Column("previous_secret_until", UTCDateTime),
    Column("status", String(12), nullable=False),  # ACTIVE or DISABLED
    Column("status_reason", Text),
    Column("cursor", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_webhooks_client_pk", "client_pk"),
)

# One row per (endpoint, event) to send, sent in `pk` order per endpoint; kept after delivery
# as its history. A replay queues new rows (the same message id: receivers de-duplicate).
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("webhook_pk", Integer, ForeignKey("webhooks.pk", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),  # the event's log position (its cursor)
    Column("message_id", String(60), nullable=False),  # webhook-id: the same on every retry
    Column("event_type", String(40), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(12), nullable=False),  # PENDING, DELIVERED, CANCELLED
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("first_attempt_at", UTCDateTime),
    Column("last_attempt_at", UTCDateTime),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("delivered_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_webhook_deliveries_webhook_pk_status", "webhook_pk", "status"),
    sqlite_autoincrement=True,  # send order is pk order: never reuse one
)
