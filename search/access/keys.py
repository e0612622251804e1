"""Who may do what: API keys, roles, permissions, and the audit event.

Every key belongs to one office and one role (least privilege, as criminal-justice information
systems require: unique credentials, a role per duty, a record of every query). A key is shown once
when created — ``sus_<key id>_<secret>`` — and stored only as an scrypt hash of the secret, so a copy
of the store does not reveal usable keys. Keys can expire and be revoked; both take effect on the
next request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from search.access.buckets import BucketTable, Rate
from search.access.store import AccessStore, ApiKey, Session
from search.clock import iso, now_utc
from search.errors import Forbidden, Unauthorized

ROLES: dict[str, frozenset[str]] = {
    # search, match and read records: the investigator at a desk
    "investigator": frozenset({"match", "read", "stats"}),
    # match only: automated pre-raid checks
    "system": frozenset({"match"}),
    # match, bulk screening of watchlists, standing watchlists and their alerts
    "analyst": frozenset({"match", "screen", "watch", "stats"}),
    # load and withdraw its own office's records, manage its own office's keys, watchlists and webhooks
    "office-admin": frozenset({"write", "keys", "watch", "webhooks", "stats"}),
    # read the audit trail
    "auditor": frozenset({"audit", "stats"}),
}

# scrypt cost: n=2**14, r=8 — about 16 MB and 40-60 ms per verification on this machine, so a
# stolen hash costs an attacker the same; verified tokens are remembered in memory (by their SHA-256)
# so a client pays it once per process, not per request.
SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
TOKEN_PREFIX = "sus"


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of one request: key, office, role, and where from."""

    key_id: str
    office: str
    role: str
    client: str = ""

    def can(self, permission: str) -> bool:
        return permission in ROLES.get(self.role, frozenset())

    def require(self, permission: str, office: str | None = None) -> None:
        """Raise Forbidden unless this role has the permission (for ``office``, if given)."""
        if not self.can(permission):
            raise Forbidden(f"role {self.role!r} may not {permission}")
        if office is not None and office != self.office:
            raise Forbidden(f"a key of office {self.office} may not {permission} for office {office}", field="office")


def _hash(secret: str, salt: str) -> str:
    return hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt), **SCRYPT).hex()


def new_key(office: str, role: str, label: str, expires_at: datetime | None = None) -> tuple[ApiKey, str]:
    """A new key and its token. The token is returned once and never stored."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    key = ApiKey(
        key_id,
        office,
        role,
        label,
        iso(now_utc()),
        iso(expires_at) if expires_at else None,
        None,
        salt,
        _hash(secret, salt),
    )
    return key, f"{TOKEN_PREFIX}_{key_id}_{secret}"


def new_session(key_id: str, hours: float) -> tuple[Session, str]:
    """A web sign-in for a verified key and the browser's token for it (stored only hashed)."""
    token = secrets.token_urlsafe(32)
    now = now_utc()
    return Session(session_digest(token), key_id, iso(now), iso(now + timedelta(hours=hours))), token


def session_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_caller(access: AccessStore, token: str, client: str) -> Principal | None:
    """The caller of a live session: the session neither ended nor expired, and its key still
    active (a revoked key ends its sessions on their next request)."""
    session = access.get_session(session_digest(token))
    now = now_utc()
    if session is None or not session.active(now):
        return None
    key = access.get_key(session.key_id)
    if key is None or not key.active(now):
        return None
    return Principal(key.key_id, key.office, key.role, client)


def split_token(token: str) -> tuple[str, str]:
    """(key id, secret) of a token; Unauthorized if it is not shaped like one."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        raise Unauthorized("malformed API key")
    return parts[1], parts[2]


# One message for a key that does not exist and a wrong secret (and a revoked key with a wrong
# secret): the answer must not tell an attacker which key ids exist or were revoked (issue #18).
INVALID = "invalid API key"
# A salt no key has: unknown ids are hashed against it, so they cost what a wrong secret costs.
_DUMMY_SALT = "00" * 16


class FailureLimiter:
    """Failed authentications per key id and per client address: ``per_minute`` of them at once,
    then one more each ``60 / per_minute`` seconds (a token bucket in the server's shared
    :class:`BucketTable`, so every process of the server counts the same failures). Checked
    *before* the slow hash: a flood of wrong secrets for one key id cost one scrypt each (~60 ms)
    and pushed every legitimate /match from 8 ms to 1.4 s (issue #18)."""

    def __init__(self, per_minute: int, table: BucketTable | None = None) -> None:
        self.rate = Rate(per_minute, per_minute, "too many failed authentications; try again later")
        self.table = table if table is not None else BucketTable()

    def check(self, key_id: str, client: str) -> None:
        """RateLimited if this key id or this address failed too often."""
        for who in self._whom(key_id, client):
            self.rate.check(self.table, who)

    def failed(self, key_id: str, client: str) -> None:
        for who in self._whom(key_id, client):
            self.rate.spend(self.table, who)

    @staticmethod
    def _whom(key_id: str, client: str) -> tuple[str, ...]:
        """What a failure counts against: the address, and the key id when the token named one
        (a malformed or missing token counts against its address only)."""
        return (f"key:{key_id}", f"addr:{client}") if key_id else (f"addr:{client}",)


class KeyVerifier:
    """Checks bearer tokens. The slow hash runs once per token per process; revocation and expiry
    are read from the store on every request. Failed attempts are limited before hashing."""

    def __init__(self, access: AccessStore, failures_per_minute: int = 10, table: BucketTable | None = None) -> None:
        self.access = access
        self.failures = FailureLimiter(failures_per_minute, table)
        self._verified: dict[str, str] = {}  # sha256(token) → key id

    def refused(self, client: str) -> None:
        """A request with a malformed or missing token: no hash to protect, but a flood of them
        costs the whole request path, so they count against the address like wrong secrets."""
        self.failures.check("", client)
        self.failures.failed("", client)

    def verified_id(self, token: str) -> str | None:
        """The key id of a token this process has verified (revocation is still checked by
        :meth:`verify`), else None. No store read, no hash."""
        parts = token.split("_", 2)
        if len(parts) != 3:
            return None
        digest = hashlib.sha256(token.encode()).hexdigest()
        return parts[1] if self._verified.get(digest) == parts[1] else None

    def verify(self, token: str, client: str = "") -> Principal:
        try:
            key_id, _ = split_token(token)
        except Unauthorized:
            self.refused(client)
            raise
        return self.admit(token, self.access.get_key(key_id), client)

    def admit(self, token: str, key: ApiKey | None, client: str = "") -> Principal:
        """The caller holding ``token`` (well formed), given its key as the store holds it now.
        Hashes unless this process has verified the token (:meth:`verified_id`)."""
        key_id, secret = split_token(token)
        digest = hashlib.sha256(token.encode()).hexdigest()
        if key is None or self._verified.get(digest) != key_id:
            # A token this process has not verified costs a hash: limited, and the same cost and
            # answer whether the id exists or not.
            self.failures.check(key_id, client)
            expected = key.hash if key is not None else ""
            computed = _hash(secret, key.salt if key is not None else _DUMMY_SALT)
            if key is None or not hmac.compare_digest(computed, expected):
                self.failures.failed(key_id, client)
                raise Unauthorized(INVALID)
            if len(self._verified) > 10_000:
                self._verified.clear()
            self._verified[digest] = key_id
        if not key.active(now_utc()):
            raise Unauthorized("API key revoked or expired")  # said only to the holder of the secret
        return Principal(key.key_id, key.office, key.role, client)
