"""Resource-server side (RFC 9068 JWT access tokens): turn a bearer token into a Caller, or
refuse it with the reason.

Tokens come from this hub (signed with a key of the KeyStore) or from a company's identity
provider configured as a trusted issuer (hub/auth/issuers.py). Either way the token must name a
known, enabled client, and its `jti` must not be revoked.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from hub.auth.caller import Caller
from hub.auth.clients import ClientRecord, ClientStore
from hub.auth.issuers import IssuerStore
from hub.auth.keys import ALGORITHM, KeyStore
from hub.auth.revocation import RevocationList
from hub.clock import Clock, SystemClock

__all__ = ["InvalidToken", "TokenValidator", "unverified_parts"]

# Algorithms accepted from trusted issuers; never "none", never HMAC (no shared secrets).
_EXTERNAL_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
_LEEWAY = 30


class InvalidToken(Exception):
    """A bearer token that must be refused; the message is safe to show the client."""


def unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        header_b64, payload_b64, _ = token.split(".")
        header = orjson.loads(base64.urlsafe_b64decode(header_b64 + "=" * (-len(header_b64) % 4)))
        claims = orjson.loads(base64.urlsafe_b64decode(payload_b64 + "=" * (-len(payload_b64) % 4)))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise InvalidToken("malformed token") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise InvalidToken("malformed token")
    return header, claims


@dataclass(slots=True)
class _Verified:
    """A token whose signature and claims were verified, until its `exp`; with the caller it
    named, built again whenever the client's record is another (reloaded) one."""

    claims: dict[str, Any]
    exp: int
    jti: str
    client: ClientRecord | None = None
    caller: Caller | None = None


@dataclass
class TokenValidator:
    issuer: str
    audience: str
    keys: KeyStore
    clients: ClientStore
    revocations: RevocationList
    issuers: IssuerStore
    clock: Clock = field(default_factory=SystemClock)
    verified_cache_size: int = 10_000
    _verified: dict[str, _Verified] = field(default_factory=dict, repr=False)

    async def validate(self, token: str) -> Caller:
        verified = self._verified.get(token)  # one of ours, seen before: not decoded again
        if verified is not None:
            if verified.exp > self.clock.timestamp() - _LEEWAY:
                return await self._current(verified)
            del self._verified[token]
        header, claims = unverified_parts(token)
        if header.get("alg") in (None, "none") or str(header.get("alg", "")).startswith("HS"):
            raise InvalidToken(f"algorithm {header.get('alg')!r} is not accepted")
        if claims.get("iss") == self.issuer:
            return await self._own(token, header)
        return await self._external(token, header, claims)

    async def _own(self, token: str, header: dict[str, Any]) -> Caller:
        # The signature and claims of a token seen before are not checked again until it
        # expires (validate finds it first); revocation and the client's state are, on every
        # request (both cached ~1 s).
        claims = await self._verify_own(token, header)
        verified = _Verified(claims, int(claims["exp"]), str(claims["jti"]))
        self._remember(token, verified)
        return await self._current(verified)

    async def _current(self, verified: _Verified) -> Caller:
        """The caller a verified token names now: not revoked, its client known and enabled."""
        if await self.revocations.is_revoked(verified.jti):
            raise InvalidToken("token revoked")
        client = await self.clients.get(str(verified.claims.get("client_id", "")))
        if client is None or not client.enabled:
            raise InvalidToken("client unknown or disabled")
        if client is not verified.client or verified.caller is None:  # reloaded: built again
            asked = frozenset(str(verified.claims.get("scope", "")).split())
            scopes = asked & frozenset(client.scopes)
            verified.caller = _caller(client, scopes, verified.claims, verified.jti)
            verified.client = client
        return verified.caller

    def _remember(self, token: str, verified: _Verified) -> None:
        if self.verified_cache_size <= 0:
            return  # the cache is off
        if len(self._verified) >= self.verified_cache_size:
            now = self.clock.timestamp() - _LEEWAY
            for old in [t for t, v in self._verified.items() if v.exp <= now]:
                del self._verified[old]
            while len(self._verified) >= self.verified_cache_size:
                del self._verified[next(iter(self._verified))]  # the oldest
        self._verified[token] = verified

    async def _verify_own(self, token: str, header: dict[str, Any]) -> dict[str, Any]:
        kid = header.get("kid")
        if kid not in self.keys.kids():
            await self.keys.refresh(force=True)
            if kid not in self.keys.kids():
                raise InvalidToken("token signed with an unknown key")
        if header.get("typ", "").lower() not in ("at+jwt", "application/at+jwt"):
            raise InvalidToken("not an access token (typ must be at+jwt)")
        claims = self._verify(token, self.keys.verification_set(), [ALGORITHM], self.audience)
        if claims.get("iss") != self.issuer:
            raise InvalidToken("wrong issuer")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise InvalidToken("token has no jti")
        return claims

    async def _external(
        self, token: str, header: dict[str, Any], unverified: dict[str, Any]
    ) -> Caller:
        issuer = unverified.get("iss")
        configs = await self.issuers.issuers(str(issuer)) if isinstance(issuer, str) else []
        if not configs:
            raise InvalidToken("wrong issuer")
        config = configs[0]
        try:
            keys = await self.issuers.keys_for(config["jwks_url"], header.get("kid"))
        except (httpx.HTTPError, ValueError, JoseError) as exc:
            raise InvalidToken("the issuer's keys cannot be fetched now") from exc
        claims = self._verify(token, keys, _EXTERNAL_ALGORITHMS, config["audience"])
        for candidate in configs:
            value = claims.get(candidate["client_claim"])
            if value is not None and str(value) == candidate["client_value"]:
                client = await self.clients.get_by_pk(candidate["client_pk"])
                break
        else:
            raise InvalidToken("the token names no client mapped for this issuer")
        if client is None or not client.enabled:
            raise InvalidToken("client unknown or disabled")
        jti = claims.get("jti")
        if isinstance(jti, str) and await self.revocations.is_revoked(jti):
            raise InvalidToken("token revoked")
        asked = claims.get("scope", claims.get("scp"))
        scopes = frozenset(client.scopes)
        if isinstance(asked, str):
            scopes &= frozenset(asked.split())
        elif isinstance(asked, list):
            scopes &= frozenset(str(s) for s in asked)
        return _caller(client, scopes, claims, jti if isinstance(jti, str) else None)

    def _verify(
        self, token: str, keys: KeySet, algorithms: list[str], audience: str
    ) -> dict[str, Any]:
        try:
            decoded = jwt.decode(token, keys, algorithms=algorithms)
        except JoseError as exc:
            raise InvalidToken(f"bad signature or key ({exc.error})") from exc
        registry = JWTClaimsRegistry(
            now=self.clock.timestamp,
            leeway=_LEEWAY,
            exp={"essential": True},
            aud={"essential": True, "value": audience},
        )
        claims = dict(decoded.claims)
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise InvalidToken(_claim_message(exc)) from exc
        now = self.clock.timestamp()
        if isinstance(claims.get("nbf"), int | float) and claims["nbf"] > now + _LEEWAY:
            raise InvalidToken("token not yet valid")
        if isinstance(claims.get("iat"), int | float) and claims["iat"] > now + _LEEWAY:
            raise InvalidToken("token not yet valid (issued in the future)")
        return claims


def _claim_message(exc: JoseError) -> str:
    if isinstance(exc, ExpiredTokenError):
        return "token expired"
    claim = getattr(exc, "claim", "")
    if claim == "aud":
        return "wrong audience"
    if claim in ("nbf", "iat"):
        return "token not yet valid"
    return f"invalid claims ({exc.error}: {claim})"


def _caller(
    client: ClientRecord, scopes: frozenset[str], claims: dict[str, Any], jti: str | None
) -> Caller:
    """The caller a valid token names: its client, the scopes both allow, until `exp`."""
    return Caller(
        client_id=client.id,
        kind=client.kind,
        scopes=scopes,
        partner=client.partner,
        policy=client.policy,
        trusted_documents_only=client.trusted_documents_only,
        expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        jti=jti,
        client_pk=client.pk,
    )
