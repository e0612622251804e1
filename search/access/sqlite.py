"""Keys and the audit trail in the embedded SQLite file (the same file as the records).

The audit table is append-only at the database level: triggers abort every UPDATE, and every DELETE
unless the purge gate is open — and the only code that opens it is :meth:`SQLiteAccess.purge`,
which deletes entries older than the retention period and records its own run in the same
transaction. No API route or CLI command updates or deletes an entry.
"""

from __future__ import annotations

import json
from pathlib import Path

from search.access.store import ALL_EVENTS, ApiKey, AuditEvent, AuditFilter, Session, searchable
from search.clock import iso, now_utc
from search.storage.sqlite_conn import SQLiteTables

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    office TEXT NOT NULL,
    role TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT,
    salt TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS web_sessions (
    session_id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ended_at TEXT
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    key_id TEXT NOT NULL,
    office TEXT NOT NULL,
    role TEXT NOT NULL,
    client TEXT NOT NULL,
    terms TEXT NOT NULL,
    detail TEXT NOT NULL,
    folded TEXT
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
CREATE INDEX IF NOT EXISTS audit_office ON audit (office, at);
CREATE TABLE IF NOT EXISTS audit_gate (open INTEGER NOT NULL);
INSERT INTO audit_gate SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM audit_gate);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
WHEN (SELECT open FROM audit_gate) = 0
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_gate_one_row BEFORE DELETE ON audit_gate
BEGIN SELECT RAISE(ABORT, 'the audit gate cannot be removed'); END;
"""


class SQLiteAccess(SQLiteTables):
    """API keys and audit events in the store's SQLite file."""

    SCHEMA = _SCHEMA

    def __init__(self, path: Path | str) -> None:
        super().__init__(path)
        columns = {row[1] for row in self._conn().execute("PRAGMA table_info(audit)")}
        if "folded" not in columns:
            # A store from before the column: older entries keep NULL (the trail is append-only)
            # and are still found by their terms as written.
            self._conn().execute("ALTER TABLE audit ADD COLUMN folded TEXT")

    def add_key(self, key: ApiKey) -> None:
        self._conn().execute(
            "INSERT INTO api_keys VALUES (?,?,?,?,?,?,?,?,?)",
            (
                key.key_id,
                key.office,
                key.role,
                key.label,
                key.created_at,
                key.expires_at,
                key.revoked_at,
                key.salt,
                key.hash,
            ),
        )

    def get_key(self, key_id: str) -> ApiKey | None:
        row = self._conn().execute("SELECT * FROM api_keys WHERE key_id = ?", (key_id,)).fetchone()
        return ApiKey(*row) if row else None

    def list_keys(self, office: str | None = None) -> list[ApiKey]:
        sql, args = "SELECT * FROM api_keys", []
        if office:
            sql, args = sql + " WHERE office = ?", [office]
        return [ApiKey(*r) for r in self._conn().execute(sql + " ORDER BY created_at, key_id", args)]

    def revoke_key(self, key_id: str, at: str) -> bool:
        cur = self._conn().execute(
            "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL", (at, key_id)
        )
        return cur.rowcount == 1

    def add_session(self, session: Session) -> None:
        self._conn().execute(
            "INSERT INTO web_sessions VALUES (?,?,?,?,?)",
            (session.session_id, session.key_id, session.created_at, session.expires_at, session.ended_at),
        )

    def get_session(self, session_id: str) -> Session | None:
        row = self._conn().execute("SELECT * FROM web_sessions WHERE session_id = ?", (session_id,)).fetchone()
        return Session(*row) if row else None

    def end_session(self, session_id: str, at: str) -> bool:
        cur = self._conn().execute(
            "UPDATE web_sessions SET ended_at = ? WHERE session_id = ? AND ended_at IS NULL", (at, session_id)
        )
        return cur.rowcount == 1

    def record(self, event: AuditEvent) -> None:
        event.at = event.at or iso(now_utc())
        cur = self._conn().execute(
            "INSERT INTO audit (at, action, key_id, office, role, client, terms, detail, folded)"
            " VALUES (?,?,?,?,?,?,?,?,?)",
            (
                event.at,
                event.action,
                event.key_id,
                event.office,
                event.role,
                event.client,
                json.dumps(event.terms, ensure_ascii=False),
                json.dumps(event.detail, ensure_ascii=False),
                searchable(event.terms),
            ),
        )
        event.id = cur.lastrowid

    def events(self, where: AuditFilter = ALL_EVENTS) -> list[AuditEvent]:
        clauses: list[str] = []
        args: list[str | int] = []
        for clause, value in (
            ("office = ?", where.office),
            ("key_id = ?", where.key_id),
            ("at >= ?", where.since),
            ("at < ?", where.until),
        ):
            if value:
                clauses.append(clause)
                args.append(value)
        if where.q:
            clauses.append("(terms LIKE ? OR detail LIKE ? OR folded LIKE ?)")
            args.extend([f"%{where.q}%", f"%{where.q}%", f"%{where.q_folded}%"])
        sql = "SELECT id, at, action, key_id, office, role, client, terms, detail FROM audit"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY id DESC LIMIT ?"
        rows = self._conn().execute(sql, [*args, where.limit]).fetchall()
        return [AuditEvent(r[2], r[3], r[4], r[5], r[6], json.loads(r[7]), json.loads(r[8]), r[1], r[0]) for r in rows]

    def purge(self, before: str, by: AuditEvent) -> int:
        """Delete entries older than ``before`` and record the purge, in one transaction."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("UPDATE audit_gate SET open = 1")
            n = conn.execute("DELETE FROM audit WHERE at < ?", (before,)).rowcount
            conn.execute("UPDATE audit_gate SET open = 0")
            by.detail = {**by.detail, "before": before, "deleted": n}
            self.record(by)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return n
