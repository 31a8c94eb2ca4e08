"""Every HUB_* setting, read once at start-up into one typed object.

Nothing else in the hub reads `os.environ`. A missing or malformed value stops start-up with a
message that names the variable.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "SettingsError", "load_settings"]


class SettingsError(Exception):
    """A HUB_* variable is missing or malformed."""


class Settings(BaseSettings):
    """The hub's configuration, from HUB_* environment variables or a `.env` file."""

    model_config = SettingsConfigDict(
        env_prefix="HUB_", env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    database_url: str = Field(
        default="sqlite+aiosqlite:///./entraide-hub.db",
        description="SQLAlchemy URL of the store: sqlite+aiosqlite:///FILE or "
        "postgresql+asyncpg://USER@HOST:PORT/DB.",
    )
    broker_url: str = Field(
        default="memory://",
        description="Where change events travel between replicas: memory:// (one process) or "
        "redis://HOST:PORT/DB.",
    )
    host: str = Field(default="127.0.0.1", description="Address the server binds.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the server binds.")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Logging level."
    )
    log_format: Literal["auto", "json", "text"] = Field(
        default="auto",
        description="Log lines: json (one object a line, with the request id) or text; auto is "
        "json for `serve` and text for the other commands.",
    )
    otel_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP endpoint that receives traces (http://collector:4318); "
        "tracing is off when unset. Needs the `otel` extra.",
    )
    otel_service_name: str = Field(
        default="entraide-hub", description="`service.name` of the traces this hub sends."
    )
    public_url: str | None = Field(
        default=None,
        description="The hub's public base URL (token issuer and audience); "
        "http://HOST:PORT when unset.",
    )
    page_size_default: int = Field(default=20, ge=1, le=100, description="Default `first`.")
    page_size_max: int = Field(default=100, ge=1, le=1000, description="Largest `first` allowed.")
    db_pool_size: int = Field(default=10, ge=1, le=200, description="PostgreSQL pool size.")
    db_echo: bool = Field(default=False, description="Log every SQL statement.")
    token_ttl_seconds: int = Field(
        default=900, ge=60, le=86400, description="Lifetime of issued access tokens (seconds)."
    )
    token_audience: str | None = Field(
        default=None, description="`aud` of issued tokens; the public URL when unset."
    )
    auth_cache_seconds: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="How long a replica trusts what it read of clients and revocations.",
    )
    issuer_jwks_ttl_seconds: int = Field(
        default=300, ge=1, description="How long a trusted issuer's JWKS is cached."
    )
    event_retention_days: float = Field(
        default=30.0, gt=0, description="How long the event log keeps changes for resuming."
    )
    live_poll_seconds: float = Field(
        default=2.0,
        gt=0,
        description="How often a replica reads the event log without being woken (a safety "
        "net for lost broker messages).",
    )
    subscriber_queue_size: int = Field(
        default=1000,
        ge=1,
        description="Event batches a subscriber may fall behind before it is told to resume.",
    )
    max_subscriptions_per_connection: int = Field(
        default=20, ge=1, description="Subscriptions one WebSocket may run at once."
    )
    max_connections_per_client: int = Field(
        default=20, ge=1, description="WebSockets one client may hold open on a replica."
    )
    scheduler: bool = Field(
        default=True, description="Sync partners on their intervals inside `serve`."
    )
    scheduler_tick_seconds: float = Field(
        default=15.0, gt=0, description="How often the scheduler looks for partners due a sync."
    )
    sync_batch_size: int = Field(
        default=500, ge=1, le=10000, description="Missions written per transaction in a sync."
    )
    sync_pull_process: bool = Field(
        default=True,
        description=(
            "Pull, parse and prepare a sync's feed in a process of its own, while the sync's"
            " process writes the batches before (two cores at work); false: all in one process."
        ),
    )
    sync_max_feed_bytes: int = Field(
        default=2**30,
        ge=1024,
        description=(
            "Largest body a sync reads from a partner (bytes; a feed is streamed, so this bounds"
            " a runaway or decompressed body, not memory); a partner's `max_feed_bytes` wins."
        ),
    )
    circuit_failures: int = Field(
        default=3, ge=1, description="Consecutive failed syncs that open a partner's circuit."
    )
    circuit_open_seconds: float = Field(
        default=1800.0, ge=0, description="How long an open circuit skips the partner."
    )
    close_after_failing_days: float = Field(
        default=7.0,
        gt=0,
        description="A partner failing this long has its missions closed (they may be stale).",
    )
    introspection: Literal["authenticated", "always", "never"] = Field(
        default="authenticated",
        description="Who may introspect the schema (and get field suggestions): "
        "authenticated clients, anyone, or nobody.",
    )
    max_depth: int = Field(
        default=12, ge=1, le=100, description="Most levels of nested fields in an operation."
    )
    max_aliases: int = Field(default=30, ge=0, description="Most aliases in a document.")
    max_tokens: int = Field(
        default=5000, ge=100, description="Most lexical tokens in a document (parser stops)."
    )
    max_cost: int = Field(
        default=10000,
        ge=1,
        description="Most cost of an operation (schema/cost.py explains the cost model).",
    )
    max_body_bytes: int = Field(
        default=256 * 1024,
        ge=1024,
        description="Largest POST body, GET query string or GraphQL document (bytes).",
    )
    max_push_body_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1024,
        description="Largest POST body from a client with missions:write (pushed batches).",
    )
    # One company client often serves a whole intranet: the default allows 50 requests a
    # second per client, which still stops a runaway script.
    rate_limit_per_minute: int = Field(
        default=3000, ge=0, description="Requests a client may make per minute; 0 turns it off."
    )
    rate_limit_burst: int = Field(
        default=300, ge=1, description="Requests a client may make at once (the bucket size)."
    )
    rate_limit_prefix: str = Field(
        default="entraide-hub:ratelimit:",
        description="Prefix of the rate-limit keys in Redis (when the broker is Redis).",
    )
    # POST /oauth/token checks a secret with argon2 (slow on purpose): a client needs a token
    # every few minutes, so these are far below the API's limits and stop a guessing script.
    token_rate_limit_per_minute: int = Field(
        default=60,
        ge=0,
        description="Token requests (POST /oauth/token) one client id may make per minute; "
        "0 turns the limit off.",
    )
    token_rate_limit_burst: int = Field(
        default=20, ge=1, description="Token requests one client id may make at once."
    )
    token_address_rate_limit_per_minute: int = Field(
        default=300,
        ge=0,
        description="Token requests one source address may make per minute, whatever the "
        "client ids; 0 turns the limit off.",
    )
    token_address_rate_limit_burst: int = Field(
        default=100, ge=1, description="Token requests one source address may make at once."
    )
    # recommendedMissions: what each reason adds to a mission's score (docs/intranets.md).
    recommend_skill_weight: float = Field(
        default=3.0,
        ge=0,
        description="Score a mission gains for each skill it asks for that the employee has.",
    )
    recommend_related_skill_share: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description="Share of the skill weight for a skill explicitly related to one the "
        "employee has (the professions overlap).",
    )
    recommend_family_skill_share: float = Field(
        default=0.25,
        ge=0,
        le=1,
        description="Share of the skill weight for a skill of the same family as one the "
        "employee has.",
    )
    recommend_extra_skill_share: float = Field(
        default=0.25,
        ge=0,
        le=1,
        description="Share of its weight each close skill of a mission adds after the best one: "
        "a mission is about its main skill, and a long list of skills should not outrank it.",
    )
    recommend_named_skill_share: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description="Share of the skill weight for a title that names one of the employee's "
        "skills (its label or a synonym), whether the partner listed it or not.",
    )
    recommend_cause_weight: float = Field(
        default=1.5, ge=0, description="Score for serving one of the employee's causes."
    )
    recommend_distance_weight: float = Field(
        default=1.0,
        ge=0,
        description="Score for a location at the employee's point, falling to 0 at the radius.",
    )
    recommend_remote_weight: float = Field(
        default=1.0,
        ge=0,
        description="Score for a fully remote mission (unless the employee wants on-site only).",
    )
    recommend_remote_possible_weight: float = Field(
        default=0.5,
        ge=0,
        description="Score for a mission that can partly be done remotely (unless the employee "
        "wants on-site only).",
    )
    recommend_time_fits_weight: float = Field(
        default=0.5,
        ge=0,
        description="Score for asking at most the hours per week the employee offers.",
    )
    recommend_starts_soon_weight: float = Field(
        default=0.3,
        ge=0,
        description="Score for starting within recommend_starts_soon_days of when the employee "
        "is available.",
    )
    recommend_language_weight: float = Field(
        default=0.5,
        ge=0,
        description="Score for a mission written in a language the employee gave.",
    )
    recommend_starts_soon_days: int = Field(
        default=30, ge=1, le=366, description="What `starts soon` means, in days."
    )

    # --- engagements (the engagement loop) ---------------------------------------------------
    contact_keys: list[str] = Field(
        default_factory=list,
        description="Fernet keys (JSON list) sealing employees' contact details at rest: the "
        "first encrypts, all decrypt, so a new key goes first to rotate. Without one, the hub "
        "refuses contact details.",
    )
    contact_retention_days: int = Field(
        default=365,
        ge=1,
        description="Days an engagement's contact details are kept after its last change; "
        "then they are erased (counts and hours stay).",
    )
    tracked_link_ttl_days: int = Field(
        default=30, ge=1, description="Days a tracked application link (/go/TOKEN) works."
    )
    report_max_days: int = Field(
        default=731, ge=1, description="Longest period an engagement report may cover, in days."
    )
    mecenat_rate: float = Field(
        default=0.60, ge=0, le=1, description="Mécénat tax reduction rate (France: 60%)."
    )
    mecenat_reduced_rate: float = Field(
        default=0.40,
        ge=0,
        le=1,
        description="Rate above the yearly threshold (France: 40% above 2 M EUR).",
    )
    mecenat_reduced_rate_threshold: float = Field(
        default=2_000_000,
        ge=0,
        description="Yearly gifts (EUR) above which the reduced rate applies.",
    )
    mecenat_cap: float = Field(
        default=20_000,
        ge=0,
        description="Cap of the reduction (EUR), unless the turnover's is higher.",
    )
    mecenat_turnover_cap_ratio: float = Field(
        default=0.005, ge=0, le=1, description="Cap of the reduction as a share of turnover (0.5%)."
    )
    social_security_ceiling: float = Field(
        default=48_060,
        ge=0,
        description="Annual social-security ceiling (PASS, EUR) of the year reported on.",
    )
    salary_ceiling_multiple: float = Field(
        default=3, ge=0, description="Salary counted up to this many times the ceiling."
    )
    annual_work_hours: float = Field(
        default=1607, gt=0, description="Hours of a full-time year, to turn the salary cap hourly."
    )

    webhooks: bool = Field(
        default=True, description="Send webhook deliveries inside `serve` (one replica at a time)."
    )
    webhook_allow_http: bool = Field(
        default=False,
        description="Accept http:// webhook URLs (https only when false). For tests and "
        "closed networks.",
    )
    webhook_allowed_networks: str = Field(
        default="",
        description="Comma-separated CIDRs webhooks may reach although they are not public "
        "(loopback, private, link-local), e.g. 10.20.0.0/16; empty: public addresses only.",
    )
    webhook_connect_timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, description="Connect timeout of a webhook delivery."
    )
    webhook_read_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="Read timeout of a webhook delivery."
    )
    webhook_max_response_bytes: int = Field(
        default=64 * 1024,
        ge=0,
        description="Most of a receiver's response body the hub reads (the rest is dropped).",
    )
    webhook_retry_days: float = Field(
        default=3.0,
        gt=0,
        description="How long a failing delivery is retried before its endpoint is disabled.",
    )
    webhook_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often the webhook worker looks for due retries when no event wakes it; "
        "also how long it keeps its list of active webhooks (a change made through another "
        "replica is seen within this time, one made through its own at once).",
    )
    webhook_max_per_client: int = Field(
        default=10, ge=1, description="Webhooks one client may register."
    )

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        for item in filter(None, (part.strip() for part in value.split(","))):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(f"{item!r} is not a CIDR network ({exc})") from exc
        return value

    @property
    def webhook_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """The networks of HUB_WEBHOOK_ALLOWED_NETWORKS."""
        parts = (part.strip() for part in self.webhook_allowed_networks.split(","))
        return [ipaddress.ip_network(part, strict=False) for part in parts if part]

    response_cache: bool = Field(
        default=True,
        description="Answer repeated queries from a cache that any committed write empties "
        "(in this process; shared between replicas through Redis when the broker is Redis).",
    )
    compiled_reads: bool = Field(
        default=True,
        description="Answer a mission search seen before from one SQL statement that builds its "
        "JSON (schema/compiled.py); off, every query runs on the generic executor.",
    )
    response_cache_max_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=0,
        description="Most bytes of answers the response cache holds in this process (least "
        "recently used dropped first); an answer over an eighth of it is not kept.",
    )
    response_cache_max_age_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Longest an answer is served from the response cache: bounds what a write "
        "made outside the hub's processes, without a change event (a command renaming a "
        "partner), could leave stale.",
    )
    response_cache_fast_path: bool = Field(
        default=True,
        description="Answer response cache hits ahead of the web framework's middleware and "
        "routing (hub/web/fast.py); off, hits take the full path (for comparison). Never "
        "used when tracing is on (HUB_OTEL_ENDPOINT), so that every request is traced.",
    )
    response_cache_prefix: str = Field(
        default="entraide-hub:response-cache:",
        description="Prefix of the response cache's keys in Redis (when the broker is Redis).",
    )

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// "
                f"(got {value.split('://', 1)[0]!r})"
            )
        return value

    @field_validator("broker_url")
    @classmethod
    def _known_broker(cls, value: str) -> str:
        if not value.startswith(("memory://", "redis://", "rediss://")):
            raise ValueError("must be memory:// or redis://HOST:PORT/DB")
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def issuer(self) -> str:
        """The `iss` of the tokens this hub signs."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def audience(self) -> str:
        return self.token_audience or self.issuer


def load_settings(**overrides: object) -> Settings:
    """Read the settings once; turn pydantic's report into one message naming each variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "HUB_" + "_".join(str(part) for part in error["loc"]).upper()
            problems.append(f"{name}: {error['msg']}")
        raise SettingsError("invalid settings: " + "; ".join(problems)) from exc
