"""API keys: minting, hashing, and turning an `authorization` header into a Principal."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from vidgate.domain.errors import Unauthenticated
from vidgate.domain.principal import Principal
from vidgate.ports import ApiKeyRecord, KeyStore

KEY_PREFIX = "sk-vg-"
# Positive lookups are cached this long, so a revoked key stops working within this many seconds.
CACHE_SECONDS = 2.0


def hash_key(secret: str) -> str:
    # Keys are 256-bit random strings, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


def key_hint(secret: str) -> str:
    return f"{secret[:10]}...{secret[-4:]}" if len(secret) > 16 else "***"


@dataclass(frozen=True)
class NewKey:
    record: ApiKeyRecord
    secret: str


async def create_key(
    store: KeyStore, *, name: str, models: frozenset[str] | None = None, now: Callable[[], float] = time.time
) -> NewKey:
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    record = ApiKeyRecord(
        id="key_" + secrets.token_hex(8), name=name, hint=key_hint(secret), allowed_models=models, created_at=int(now())
    )
    await store.add_key(record, hash_key(secret))
    return NewKey(record=record, secret=secret)


class Authenticator:
    def __init__(self, store: KeyStore, *, bootstrap_key: str | None = None) -> None:
        self._store = store
        self._bootstrap_hash = hash_key(bootstrap_key) if bootstrap_key else None
        self._cache: dict[str, tuple[float, Principal]] = {}

    async def authenticate(self, authorization: str | None) -> Principal:
        secret = _bearer(authorization)
        digest = hash_key(secret)
        if digest == self._bootstrap_hash:
            # Owner derived from the key itself: changing the bootstrap key does not hand over old videos.
            return Principal(key_id=f"key_bootstrap_{digest[:16]}")
        cached = self._cache.get(digest)
        now = time.monotonic()
        if cached and cached[0] > now:
            return cached[1]
        record = await self._store.find_key(digest)
        if record is None:
            self._cache.pop(digest, None)
            raise Unauthenticated(f"Incorrect API key provided: {key_hint(secret)}.")
        principal = Principal(key_id=record.id, allowed_models=record.allowed_models)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (now + CACHE_SECONDS, principal)
        return principal


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated(
            "You didn't provide an API key. Send it as 'Authorization: Bearer <key>' "
            "(gRPC: 'authorization' metadata)."
        )
    scheme, _, secret = authorization.strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise Unauthenticated("Malformed Authorization header; expected 'Bearer <key>'.")
    return secret
