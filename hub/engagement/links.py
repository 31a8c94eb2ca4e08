"""Tracked application links: an unguessable token, and the partner URL it leads to."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["DEFAULT_TRACKING", "new_token", "tracked_url"]

# What every partner learns from a click, unless its configuration (`tracking` in the partner's
# config) names other parameters: where the application came from, and which engagement it is,
# so that the partner can report its status back through updateEngagements.
DEFAULT_TRACKING = {
    "utm_source": "entraide-hub",
    "utm_medium": "company",
    "utm_campaign": "{company}",
    "hub_engagement": "{engagement}",
}


def new_token() -> str:
    """256 random bits, URL-safe: a link cannot be guessed from another."""
    return secrets.token_urlsafe(32)


def tracked_url(
    application_url: str,
    tracking: Mapping[str, str] | None,
    *,
    company: str,
    engagement: str,
) -> str:
    """`application_url` with the partner's tracking parameters added (the listing's own query
    parameters are kept; a tracking parameter of the same name replaces the listing's)."""
    values = {"company": company, "engagement": engagement}
    params = {
        name: template.replace("{company}", values["company"]).replace(
            "{engagement}", values["engagement"]
        )
        for name, template in (tracking if tracking is not None else DEFAULT_TRACKING).items()
    }
    parts = urlsplit(application_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))
