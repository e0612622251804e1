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
from datetime import datetime

from search.access.store import AccessStore, ApiKey
from search.clock import iso, now_utc
from search.errors import Forbidden, Unauthorized

ROLES: dict[str, frozenset[str]] = {
    # search, match and read records: the investigator at a desk
    "investigator": frozenset({"match", "read", "stats"}),
    # match only: automated pre-raid checks
    "system": frozenset({"match"}),
    # match and bulk screening of watchlists
    "analyst": frozenset({"match", "screen", "stats"}),
    # load and withdraw its own office's records, manage its own office's keys
    "office-admin": frozenset({"write", "keys", "stats"}),
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


def split_token(token: str) -> tuple[str, str]:
    """(key id, secret) of a token; Unauthorized if it is not shaped like one."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        raise Unauthorized("malformed API key")
    return parts[1], parts[2]


class KeyVerifier:
    """Checks bearer tokens. The slow hash runs once per token per process; revocation and expiry
    are read from the store on every request."""

    def __init__(self, access: AccessStore) -> None:
        self.access = access
        self._verified: dict[str, str] = {}  # sha256(token) → key id

    def verify(self, token: str, client: str = "") -> Principal:
        key_id, secret = split_token(token)
        key = self.access.get_key(key_id)
        if key is None:
            raise Unauthorized("unknown API key")
        if not key.active(now_utc()):
            raise Unauthorized("API key revoked or expired")
        digest = hashlib.sha256(token.encode()).hexdigest()
        if self._verified.get(digest) != key_id:
            if not hmac.compare_digest(_hash(secret, key.salt), key.hash):
                raise Unauthorized("unknown API key")
            if len(self._verified) > 10_000:
                self._verified.clear()
            self._verified[digest] = key_id
        return Principal(key.key_id, key.office, key.role, client)
