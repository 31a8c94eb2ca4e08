"""OAuth 2.0 end to end: token endpoint, validation of every bad token, scopes, revocation,
key rotation, trusted identity providers, company policy and the audit log."""

from __future__ import annotations

import asyncio
import base64
import os
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jws, jwt
from joserfc.jwk import ECKey
from sqlalchemy import event, select
from starlette.testclient import TestClient

from hub.auth import ClientStore, InvalidToken, KeyStore, RevocationList
from hub.catalogue.filters import Policy
from hub.catalogue.model import EngagementType
from hub.clock import ManualClock
from hub.settings import Settings, load_settings
from hub.storage.db import make_engine
from hub.storage.tables import audit_log
from hub.storage.tables import clients as clients_table
from hub.web.app import create_app
from tests.catalogue import INGEST_AT, catalogue
from tests.conftest import SHARES_REDIS, TEST_NOW, Clients, Store, require, run
from tests.servers import IdentityProvider, serve

QUERY = "{ missions(first: 50) { totalCount edges { node { externalId } } } }"

REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL", "")

# Forged and external tokens are dated by the tests' clock, not the machine's.
NOW = int(TEST_NOW.timestamp())


def post(client: TestClient, token: str | None, query: str = QUERY) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.post("/graphql", json={"query": query}, headers=headers)


def signing_key(settings: Settings) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        engine = make_engine(settings)
        try:
            keys = KeyStore(engine, timedelta(minutes=15))
            await keys.ensure()
            return dict(keys._keys[0]["private_jwk"])
        finally:
            await engine.dispose()

    return run(go())  # type: ignore[no-any-return]


def forge(settings: Settings, key: dict[str, Any] | None = None, **changes: Any) -> str:
    """A token like the hub's own, with some claims or header fields changed."""
    jwk = ECKey.import_key(key or signing_key(settings))
    now = NOW
    claims: dict[str, Any] = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "exp": now + 600,
        "iat": now,
        "jti": f"forged-{now}-{id(changes)}",
        "client_id": changes.pop("client_id"),
        "scope": "missions:read",
    }
    header = {"alg": "ES256", "typ": "at+jwt", "kid": jwk.kid}
    header.update(changes.pop("header", {}))
    claims.update(changes)
    return jwt.encode(header, {k: v for k, v in claims.items() if v is not None}, jwk)


@pytest.fixture
def acme(clients: Clients) -> Any:
    return clients.create("company", "ACME")


# --- the token endpoint ---------------------------------------------------------------------


def test_a_real_oauth_client_gets_a_token_and_queries_the_running_hub(
    settings: Settings, store: Store, clients: Clients, acme: Any
) -> None:
    store.ingest("alpha", catalogue()["alpha"], now=INGEST_AT)

    async def scenario(base: str) -> dict[str, Any]:
        async with AsyncOAuth2Client(
            acme.client_id,
            acme.client_secret,
            token_endpoint_auth_method="client_secret_basic",
            scope="missions:read",
        ) as oauth:
            await oauth.fetch_token(f"{base}/oauth/token", grant_type="client_credentials")
            response = await oauth.post(f"{base}/graphql", json={"query": QUERY})
            body: dict[str, Any] = response.json()
            return body

    with serve(create_app(settings)) as base:
        body = asyncio.run(scenario(base))
    assert body["data"]["missions"]["totalCount"] == 4  # alpha's A1 to A4


def test_token_response_and_claims(client: TestClient, settings: Settings, acme: Any) -> None:
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": acme.client_id,
            "client_secret": acme.client_secret,  # client_secret_post
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"].lower() == "bearer"
    assert body["expires_in"] == 900
    assert body["scope"] == "missions:read engagements:read engagements:write"
    assert response.headers["cache-control"] == "no-store"
    jwks = client.get("/.well-known/jwks.json").json()
    token = jwt.decode(body["access_token"], ECKey.import_key(jwks["keys"][0]))
    assert token.header["typ"] == "at+jwt"
    claims = token.claims
    assert claims["iss"] == settings.issuer and claims["aud"] == settings.audience
    assert claims["client_id"] == acme.client_id and claims["sub"] == acme.client_id
    assert claims["exp"] - claims["iat"] == 900
    assert claims["jti"]


@pytest.mark.parametrize(
    ("form", "auth", "error"),
    [
        ({"grant_type": "client_credentials"}, ("nobody", "x"), "invalid_client"),
        ({"grant_type": "client_credentials"}, "WRONG", "invalid_client"),
        (
            {"grant_type": "password", "username": "u", "password": "p"},
            "OK",
            "unsupported_grant_type",
        ),
        ({"grant_type": "client_credentials", "scope": "admin"}, "OK", "invalid_scope"),
        ({"grant_type": "client_credentials", "scope": "missions:write"}, "OK", "invalid_scope"),
        ({"grant_type": "client_credentials", "scope": "galaxy:rule"}, "OK", "invalid_scope"),
        ({}, "OK", "invalid_request"),
    ],
)
def test_token_errors_are_rfc6749_json(
    client: TestClient, acme: Any, form: dict[str, str], auth: Any, error: str
) -> None:
    if auth == "OK":
        auth = (acme.client_id, acme.client_secret)
    elif auth == "WRONG":
        auth = (acme.client_id, acme.client_secret + "x")
    response = client.post("/oauth/token", data=form, auth=auth)
    assert response.status_code in (400, 401)
    assert response.json()["error"] == error
    assert post(client, None, "{ __typename }").status_code == 200  # still answering


def test_a_wrong_secret_and_an_unknown_client_read_the_same(client: TestClient, acme: Any) -> None:
    form = {"grant_type": "client_credentials"}
    wrong_secret = client.post("/oauth/token", data=form, auth=(acme.client_id, "guess"))
    unknown_id = client.post("/oauth/token", data=form, auth=("company-0000", "guess"))
    posted = client.post(
        "/oauth/token", data={**form, "client_id": acme.client_id, "client_secret": "guess"}
    )
    for response in (wrong_secret, unknown_id, posted):
        assert response.status_code == 401, response.text
        body = response.json()
        assert body["error"] == "invalid_client"
        assert body["error_description"] == (
            "the client id or secret is wrong, or the client is disabled"
        )
    # Not a word that reads as a wrong authentication method.
    assert "method" not in wrong_secret.text
    assert "invalid_client" in wrong_secret.headers["www-authenticate"]

    bare = client.post("/oauth/token", data=form)
    assert bare.json()["error"] == "invalid_client"
    assert "client_secret_basic" in bare.json()["error_description"]
    assert "client_secret_post" in bare.json()["error_description"]


FORM_HINT = (
    "the body must be form-encoded (application/x-www-form-urlencoded) "
    "with grant_type=client_credentials"
)


@pytest.mark.parametrize(
    "send",
    [
        pytest.param({"json": {"grant_type": "client_credentials"}}, id="json body"),
        pytest.param({"data": {"scope": "missions:read"}}, id="no grant_type"),
        pytest.param({}, id="no body"),
        pytest.param(
            {
                "content": b"grant_type=client_credentials",
                "headers": {"Content-Type": "text/plain"},
            },
            id="text body",
        ),
    ],
)
def test_a_token_request_that_is_not_a_client_credentials_form_says_so(
    client: TestClient, acme: Any, send: dict[str, Any]
) -> None:
    response = client.post("/oauth/token", auth=(acme.client_id, acme.client_secret), **send)
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "invalid_request", "error_description": FORM_HINT}
    assert response.headers["cache-control"] == "no-store"


def test_a_parameter_sent_twice_is_refused(client: TestClient, acme: Any) -> None:
    response = client.post(
        "/oauth/token",
        content=b"grant_type=client_credentials&grant_type=password",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=(acme.client_id, acme.client_secret),
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "grant_type is sent twice: send each once",
    }


def test_other_grants_and_scopes_say_what_is_supported(client: TestClient, acme: Any) -> None:
    auth = (acme.client_id, acme.client_secret)
    grant = client.post("/oauth/token", data={"grant_type": "password"}, auth=auth).json()
    assert grant == {
        "error": "unsupported_grant_type",
        "error_description": "this hub issues tokens for grant_type=client_credentials only",
    }
    scope = client.post(
        "/oauth/token", data={"grant_type": "client_credentials", "scope": "admin"}, auth=auth
    ).json()
    assert scope["error"] == "invalid_scope"
    assert scope["error_description"] == (
        "this client may ask for the scopes: missions:read engagements:read engagements:write"
    )


def test_introspection_and_revocation_ask_for_a_form_too(client: TestClient, acme: Any) -> None:
    for path in ("/oauth/introspect", "/oauth/revoke"):
        response = client.post(path, json={"token": "x"}, auth=(acme.client_id, acme.client_secret))
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"
        assert "application/x-www-form-urlencoded" in response.json()["error_description"]


# --- rate limits on the token endpoint --------------------------------------------------------


def limited_settings(settings: Settings, **limits: Any) -> Settings:
    return load_settings(database_url=settings.database_url, scheduler=False, **limits)


def ask(http: TestClient, created: Any) -> httpx.Response:
    return http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(created.client_id, created.client_secret),
    )


def test_a_client_id_past_its_token_rate_is_told_when_to_retry(
    settings: Settings, clients: Clients, clock: ManualClock
) -> None:
    acme, other = clients.create("company", "ACME"), clients.create("company", "Other")
    # 6 a minute (one every 10 s), 3 at once.
    tight = limited_settings(settings, token_rate_limit_per_minute=6, token_rate_limit_burst=3)
    with TestClient(create_app(tight, clock)) as http:
        assert [ask(http, acme).status_code for _ in range(3)] == [200, 200, 200]
        refused = ask(http, acme)
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "10"
        assert refused.json()["error"] == "too_many_requests"
        assert "this client id" in refused.json()["error_description"]
        # A wrong secret is refused before any secret is checked: guessing gains nothing.
        guess = http.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(acme.client_id, "x")
        )
        assert guess.status_code == 429

        assert ask(http, other).status_code == 200  # another client id has its own bucket

        clock.advance(9)
        assert ask(http, acme).status_code == 429  # not yet
        clock.advance(1)
        assert ask(http, acme).status_code == 200
        assert ask(http, acme).status_code == 429  # one token back, used


def test_a_source_address_past_its_token_rate_is_refused_whatever_the_client_id(
    settings: Settings, clients: Clients, clock: ManualClock
) -> None:
    created = [clients.create("company", f"C{i}") for i in range(3)]
    tight = limited_settings(
        settings, token_address_rate_limit_per_minute=30, token_address_rate_limit_burst=2
    )

    def ask_from(base: str, address: str, who: Any) -> httpx.Response:
        # A real socket from another loopback address: the hub sees another source.
        transport = httpx.HTTPTransport(local_address=address)
        with httpx.Client(base_url=base, transport=transport) as http:
            return http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(who.client_id, who.client_secret),
            )

    with serve(create_app(tight, clock)) as base:
        assert ask_from(base, "127.0.0.2", created[0]).status_code == 200
        assert ask_from(base, "127.0.0.2", created[1]).status_code == 200
        refused = ask_from(base, "127.0.0.2", created[2])
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "2"
        assert "this address" in refused.json()["error_description"]
        assert ask_from(base, "127.0.0.3", created[2]).status_code == 200  # another address
        clock.advance(2)
        assert ask_from(base, "127.0.0.2", created[2]).status_code == 200


@SHARES_REDIS
def test_token_rate_limits_are_shared_by_replicas_through_redis(
    settings: Settings, clients: Clients, clock: ManualClock
) -> None:
    require(bool(REDIS_URL), "HUB_TEST_REDIS_URL is not set: no Redis to share the limits in")
    acme = clients.create("company", "ACME")
    prefix = f"test-hub:{uuid.uuid4().hex}:"
    shared = limited_settings(
        settings,
        broker_url=REDIS_URL,
        rate_limit_prefix=prefix,
        token_rate_limit_per_minute=6,
        token_rate_limit_burst=2,
    )
    try:
        with (
            TestClient(create_app(shared, clock)) as one,
            TestClient(create_app(shared, clock)) as two,
        ):
            assert ask(one, acme).status_code == 200
            assert ask(two, acme).status_code == 200
            refused = ask(one, acme)  # the budget is the client's, not each replica's
            assert refused.status_code == 429
            assert 1 <= int(refused.headers["retry-after"]) <= 10
    finally:
        keys = run(_forget(REDIS_URL, prefix))
    assert f"{prefix}token-client:{acme.client_id}" in keys
    assert f"{prefix}token-address:testclient" in keys


async def _forget(url: str, prefix: str) -> set[str]:
    from redis.asyncio import Redis

    redis = Redis.from_url(url)
    try:
        keys = [key async for key in redis.scan_iter(match=prefix + "*")]
        if keys:
            await redis.delete(*keys)
        return {key.decode() for key in keys}
    finally:
        await redis.aclose()


@pytest.mark.parametrize(
    "header",
    [
        "Basic !!!not-base64",
        "Basic " + base64.b64encode(b"no-colon-here").decode(),
        "Basic ",
        "Bearer abc",
    ],
)
def test_malformed_basic_header_is_invalid_client(client: TestClient, header: str) -> None:
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": header}
    )
    assert response.status_code in (400, 401)
    assert response.json()["error"] in ("invalid_client", "invalid_request")


def test_scope_down_scoping(clients: Clients) -> None:
    admin = clients.create("admin", "ops")
    token = clients.token(admin, scope="missions:read")
    claims = jwt.decode(
        token, ECKey.import_key(clients.http.get("/.well-known/jwks.json").json()["keys"][0])
    ).claims
    assert claims["scope"] == "missions:read"
    full = clients.token(admin)
    assert set(
        jwt.decode(
            full, ECKey.import_key(clients.http.get("/.well-known/jwks.json").json()["keys"][0])
        )
        .claims["scope"]
        .split()
    ) == {
        "missions:read",
        "missions:write",
        "admin",
    }


def test_secrets_are_kept_only_as_slow_hashes(settings: Settings, acme: Any) -> None:
    async def go() -> list[Any]:
        engine = make_engine(settings)
        try:
            async with engine.connect() as conn:
                return list((await conn.execute(select(clients_table.c.secret_hash))).scalars())
        finally:
            await engine.dispose()

    [stored] = run(go())
    assert stored.startswith("$argon2")
    assert acme.client_secret not in stored


def test_metadata_and_jwks(client: TestClient, settings: Settings) -> None:
    meta = client.get("/.well-known/oauth-authorization-server").json()
    assert meta["issuer"] == settings.issuer
    assert meta["token_endpoint"] == f"{settings.issuer}/oauth/token"
    assert meta["grant_types_supported"] == ["client_credentials"]
    assert "client_secret_basic" in meta["token_endpoint_auth_methods_supported"]
    keys = client.get("/.well-known/jwks.json").json()["keys"]
    assert keys and all("d" not in key for key in keys), "private parts must never be published"


# --- validation of bad tokens ---------------------------------------------------------------


def test_no_token_gets_an_authentication_error_on_data_but_typename_works(
    client: TestClient,
) -> None:
    body = post(client, None).json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert post(client, None, "{ __typename }").json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"exp": NOW - 3600}, "expired"),
        ({"nbf": NOW + 3600}, "not yet valid"),
        ({"iat": NOW + 3600}, "not yet valid"),
        ({"iss": "https://evil.example"}, "wrong issuer"),
        ({"aud": "https://someone-else.example"}, "wrong audience"),
        ({"header": {"kid": "no-such-key"}}, "unknown key"),
        ({"header": {"typ": "JWT"}}, "typ"),
        ({"jti": None}, "jti"),
        ({"client_id": "nobody"}, "unknown or disabled"),
    ],
)
def test_bad_tokens_are_refused_with_the_reason(
    client: TestClient, settings: Settings, acme: Any, changes: dict[str, Any], message: str
) -> None:
    changes.setdefault("client_id", acme.client_id)
    response = post(client, forge(settings, **changes))
    assert response.status_code == 401
    assert message in response.json()["errors"][0]["message"]
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert post(client, None, "{ __typename }").status_code == 200


def test_wrong_signature_and_alg_none_are_refused(
    client: TestClient, settings: Settings, acme: Any
) -> None:
    stranger = ECKey.generate_key("P-256", private=True).as_dict(private=True)
    stranger["kid"] = signing_key(settings)["kid"]  # claims to be our key
    response = post(client, forge(settings, key=stranger, client_id=acme.client_id))
    assert response.status_code == 401
    assert "bad signature" in response.json()["errors"][0]["message"]

    good = forge(settings, client_id=acme.client_id)
    header, payload, _ = good.split(".")
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"at+jwt"}').decode().rstrip("=")
    for token in (f"{none_header}.{payload}.", f"{header}.{payload}.", "not.a.token", "x"):
        response = post(client, token)
        assert response.status_code == 401, token
    assert post(client, good).status_code == 200


def test_non_bearer_authorization_is_refused(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": QUERY}, headers={"Authorization": "Basic x"})
    assert response.status_code == 401
    assert "Bearer" in response.json()["errors"][0]["message"]


def test_scopes_partner_token_on_company_field(clients: Clients, client: TestClient) -> None:
    partner = clients.create("partner", "P", partner="alpha")
    body = post(client, clients.token(partner)).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "missions:read" in body["errors"][0]["message"]


def test_disabled_client_loses_its_tokens_and_cannot_get_new_ones(
    clients: Clients, client: TestClient, acme: Any, clock: ManualClock
) -> None:
    token = clients.token(acme)
    assert post(client, token).status_code == 200
    clients.store(lambda store: store.set_enabled(acme.client_id, False))
    clock.advance(1.1)  # the replica's client cache lives one second
    assert post(client, token).status_code == 401
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(acme.client_id, acme.client_secret),
    )
    assert response.json()["error"] in ("invalid_client", "unauthorized_client")


def test_rotated_secret_replaces_the_old_one(
    clients: Clients, client: TestClient, acme: Any
) -> None:
    rotated = clients.store(lambda store: store.rotate_secret(acme.client_id))
    old = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(acme.client_id, acme.client_secret),
    )
    assert old.json()["error"] == "invalid_client"
    assert clients.token(rotated)


# --- introspection and revocation -----------------------------------------------------------


def test_introspection_and_revocation(clients: Clients, client: TestClient, acme: Any) -> None:
    token = clients.token(acme)
    own = (acme.client_id, acme.client_secret)
    active = client.post("/oauth/introspect", data={"token": token}, auth=own).json()
    assert active["active"] is True and active["client_id"] == acme.client_id
    assert set(active["scope"].split()) == {
        "missions:read",
        "engagements:read",
        "engagements:write",
    }

    other = clients.create("company", "Other")
    foreign = client.post(
        "/oauth/introspect", data={"token": token}, auth=(other.client_id, other.client_secret)
    ).json()
    assert foreign == {"active": False}
    assert client.post("/oauth/introspect", data={"token": token}).status_code == 401

    assert client.post("/oauth/revoke", data={"token": token}, auth=own).status_code == 200
    # Revoked: refused at once on this replica, inactive for introspection.
    response = post(client, token)
    assert response.status_code == 401
    assert "revoked" in response.json()["errors"][0]["message"]
    assert client.post("/oauth/introspect", data={"token": token}, auth=own).json() == {
        "active": False
    }
    # Revoking again, or a junk token, is fine (RFC 7009).
    assert client.post("/oauth/revoke", data={"token": token}, auth=own).status_code == 200
    assert client.post("/oauth/revoke", data={"token": "junk"}, auth=own).status_code == 200


def test_revocation_reaches_another_replica(
    settings: Settings, clients: Clients, client: TestClient, acme: Any, clock: ManualClock
) -> None:
    token = clients.token(acme)
    with TestClient(create_app(settings, clock)) as replica:
        assert post(replica, token).status_code == 200
        client.post(
            "/oauth/revoke", data={"token": token}, auth=(acme.client_id, acme.client_secret)
        )
        assert post(replica, token).status_code == 200  # its deny-list answer still holds
        clock.advance(1.1)  # the deny-list is cached one second per replica
        assert post(replica, token).status_code == 401


def test_key_rotation_keeps_old_tokens_valid(
    settings: Settings, clients: Clients, client: TestClient, acme: Any, clock: ManualClock
) -> None:
    old_token = clients.token(acme)
    old_kid = jws.extract_compact(old_token.encode()).protected["kid"]

    async def rotate() -> str:
        engine = make_engine(settings)
        try:
            # The operator's `keys rotate`, at the hub's time (the key's dates decide what the
            # JWKS still publishes).
            keys = KeyStore(engine, timedelta(seconds=settings.token_ttl_seconds), clock=clock)
            await keys.ensure()
            return await keys.rotate()
        finally:
            await engine.dispose()

    new_kid = run(rotate())
    # The JWKS document is cached up to 30 s per replica; a fresh replica sees both at once.
    with TestClient(create_app(settings, clock)) as fresh:
        kids = {key["kid"] for key in fresh.get("/.well-known/jwks.json").json()["keys"]}
        assert {old_kid, new_kid} <= kids
        assert post(fresh, old_token).status_code == 200
        new_token = Clients(settings, fresh, clock).token(acme)
    assert jws.extract_compact(new_token.encode()).protected["kid"] == new_kid
    # A replica that signed with the old key learns of the new one on first sight (it reloads
    # its keys for an unknown kid at most once a second).
    clock.advance(1.1)
    assert post(client, new_token).status_code == 200
    assert post(client, old_token).status_code == 200


# --- a company's own identity provider --------------------------------------------------------


def test_tokens_from_a_trusted_identity_provider(
    settings: Settings, clients: Clients, client: TestClient, acme: Any
) -> None:
    idp = IdentityProvider()
    with serve(idp.app) as base:
        issuer = f"{base}/realms/acme"

        async def trust() -> None:
            from hub.auth.admin import add_issuer
            from hub.auth.clients import ClientStore

            engine = make_engine(settings)
            try:
                await add_issuer(
                    engine,
                    ClientStore(engine, ttl=0),
                    issuer,
                    f"{base}/jwks",
                    "entraide-hub",
                    "azp",
                    "acme-intranet",
                    acme.client_id,
                )
            finally:
                await engine.dispose()

        run(trust())
        now = NOW
        claims = {
            "iss": issuer,
            "aud": "entraide-hub",
            "azp": "acme-intranet",
            "exp": now + 300,
            "iat": now,
            "sub": "service-account",
        }
        assert post(client, idp.token(claims)).status_code == 200
        assert idp.jwks_requests == 1
        assert post(client, idp.token(claims)).status_code == 200
        assert idp.jwks_requests == 1, "the JWKS is cached"

        idp.rotate()  # unknown kid: one refetch, then accepted
        assert post(client, idp.token(claims)).status_code == 200
        assert idp.jwks_requests == 2

        # A token with yet another unknown kid soon after: no refetch storm, refused.
        stranger = IdentityProvider()
        forged = stranger.token(claims)
        assert post(client, forged).status_code == 401
        assert post(client, forged).status_code == 401
        assert idp.jwks_requests == 2

        for bad in (
            {**claims, "aud": "someone-else"},
            {**claims, "azp": "another-app"},
            {**claims, "exp": now - 600},
        ):
            assert post(client, idp.token(bad)).status_code == 401


# --- policy ---------------------------------------------------------------------------------


def test_company_policy_applies_everywhere_and_cannot_be_widened(
    store: Store, clients: Clients, client: TestClient, acme: Any
) -> None:
    for partner, drafts in catalogue().items():
        store.ingest(partner, drafts, now=INGEST_AT)
    policy = Policy(
        causes=("education", "culture-loisirs"), engagement_types=(EngagementType.VOLUNTEERING,)
    )
    clients.store(lambda s: s.set_policy(acme.client_id, policy))
    token = clients.token(acme)
    # Education: B1, B2 (B2 is a civic service: excluded); culture-loisirs: A3, C3.
    query = """{ missions(first: 50, filter: %s) {
        totalCount edges { node { externalId } }
        facets { causes { value count } partners { value count } } } }"""
    body = post(client, token, query % "{}").json()["data"]["missions"]
    assert sorted(e["node"]["externalId"] for e in body["edges"]) == ["A3", "B1", "C3"]
    assert body["totalCount"] == 3
    assert {f["value"] for f in body["facets"]["causes"]} <= {
        "education",
        "emploi",
        "culture-loisirs",
        "communication",
    }
    widened = post(client, token, query % "{ causes: [NUMERIQUE, SANTE] }").json()
    assert widened["data"]["missions"]["totalCount"] == 0
    from hub.storage.writer import mission_id

    hidden = mission_id("alpha", "A1")
    lookups = post(
        client, token, '{ mission(id: "%s") { id } node(id: "%s") { id } }' % (hidden, hidden)
    ).json()["data"]
    assert lookups == {"mission": None, "node": None}


# --- audit ----------------------------------------------------------------------------------


def test_audit_log_records_issue_denial_and_revocation(
    settings: Settings, clients: Clients, client: TestClient, acme: Any
) -> None:
    token = clients.token(acme)
    client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(acme.client_id, "bad")
    )
    client.post("/oauth/revoke", data={"token": token}, auth=(acme.client_id, acme.client_secret))

    async def go() -> list[tuple[str, str | None]]:
        engine = make_engine(settings)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    select(audit_log.c.event, audit_log.c.client_id).order_by(audit_log.c.pk)
                )
                return [tuple(row) for row in rows]  # type: ignore[misc]
        finally:
            await engine.dispose()

    events = run(go())
    assert events == [
        ("token.issued", acme.client_id),
        ("token.denied", acme.client_id),
        ("token.revoked", acme.client_id),
    ]


# --- the verified-token cache ---------------------------------------------------------------


def test_a_verified_token_is_cached_until_it_expires(
    settings: Settings, clients: Clients, client: TestClient, acme: Any, clock: ManualClock
) -> None:
    token = clients.token(acme)
    validator = client.app.state.services.validator  # type: ignore[attr-defined]
    assert post(client, token).status_code == 200
    assert token in validator._verified  # its signature is not checked again on the next call
    assert post(client, token).status_code == 200
    clock.advance(settings.token_ttl_seconds + 31)  # past `exp` and the 30 s leeway
    response = post(client, token)
    assert response.status_code == 401
    assert "expired" in response.json()["errors"][0]["message"]
    assert token not in validator._verified


def test_the_verified_token_cache_is_bounded(
    clients: Clients, client: TestClient, acme: Any
) -> None:
    validator = client.app.state.services.validator  # type: ignore[attr-defined]
    validator.verified_cache_size = 3
    tokens = [clients.token(acme) for _ in range(5)]
    for token in tokens:
        assert post(client, token).status_code == 200
    assert len(validator._verified) == 3
    assert tokens[-1] in validator._verified and tokens[0] not in validator._verified
    assert post(client, tokens[0]).status_code == 200  # verified again, not refused


def test_a_cached_token_names_the_same_caller_until_its_client_is_reloaded(
    settings: Settings, clients: Clients, client: TestClient, acme: Any, clock: ManualClock
) -> None:
    token = clients.token(acme)
    validator = client.app.state.services.validator  # type: ignore[attr-defined]
    assert client.portal is not None
    first = client.portal.call(validator.validate, token)
    assert client.portal.call(validator.validate, token) is first  # nothing built again
    clients.store(lambda s: s.set_policy(acme.client_id, Policy(causes=("culture-loisirs",))))
    assert client.portal.call(validator.validate, token).policy == first.policy  # cached ~1 s
    clock.advance(settings.auth_cache_seconds + 1)
    reloaded = client.portal.call(validator.validate, token)
    assert reloaded.policy == Policy(causes=("culture-loisirs",)) != first.policy
    clients.store(lambda s: s.set_enabled(acme.client_id, False))
    clock.advance(settings.auth_cache_seconds + 1)
    with pytest.raises(InvalidToken, match="disabled"):
        client.portal.call(validator.validate, token)


def test_requests_that_miss_the_client_and_revocation_caches_together_share_one_read(
    settings: Settings, clock: ManualClock, acme: Any
) -> None:
    async def go() -> tuple[list[str], list[bool], list[Any]]:
        engine = make_engine(settings)
        statements: list[str] = []

        def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
            statements.append(statement)

        event.listen(engine.sync_engine, "before_cursor_execute", seen)
        try:
            revocations = RevocationList(engine, ttl=1.0, clock=clock)
            store = ClientStore(engine, ttl=1.0, clock=clock)
            revoked = await asyncio.gather(*(revocations.is_revoked("j") for _ in range(16)))
            records = await asyncio.gather(*(store.get(acme.client_id) for _ in range(16)))
            await revocations.revoke("j", acme.client_id, TEST_NOW + timedelta(hours=1))
            clock.advance(2)  # both caches are out of date: read again, once each
            revoked += await asyncio.gather(*(revocations.is_revoked("j") for _ in range(16)))
            records += await asyncio.gather(*(store.get(acme.client_id) for _ in range(16)))
            return statements, revoked, records
        finally:
            await engine.dispose()

    statements, revoked, records = run(go())
    assert revoked == [False] * 16 + [True] * 16
    assert {record.id for record in records} == {acme.client_id}
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 4, reads  # two reads of each: not 16
