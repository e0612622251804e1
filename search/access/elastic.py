"""Keys, web sessions and the audit trail in Elasticsearch, beside the records (indexes
``<prefix>-keys``, ``<prefix>-sessions`` and ``<prefix>-audit``, mappings in ``mappings/``).

Audit entries are only ever created (``op_type=create`` with a fresh id); the service has no code
path that updates or deletes one except the retention purge, which records itself. On a secured
cluster, give the API's Elasticsearch credentials ``create_doc`` (not ``write``) on the audit index
so that the rule holds for anyone holding them too.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from typing import Any, ClassVar

from elasticsearch import ConflictError, NotFoundError, helpers

from search.access.store import ALL_EVENTS, ApiKey, AuditEvent, AuditFilter, Session, searchable
from search.clock import iso, now_utc
from search.storage.elastic_client import ElasticIndexes, unavailable


class ElasticsearchAccess(ElasticIndexes):
    """API keys and audit events in two Elasticsearch indexes."""

    INDEXES: ClassVar[dict[str, str]] = {"keys": "keys", "audit": "audit", "sessions": "sessions"}

    @property
    def keys_index(self) -> str:
        return self.index("keys")

    @property
    def audit_index(self) -> str:
        return self.index("audit")

    def add_key(self, key: ApiKey) -> None:
        """Searchable when this returns (the key list searches): ``refresh=True`` refreshes the
        small keys index now, where ``wait_for`` waited up to a second for its periodic refresh."""
        self._ensure()
        doc = {f: getattr(key, f) for f in ApiKey.__slots__}
        with unavailable():
            try:
                self.es.create(index=self.keys_index, id=key.key_id, document=doc, refresh=True)
            except ConflictError:
                # The client retried a create whose first attempt landed (a node failed over mid-
                # request): the key is stored. Anything else under this id is a real clash.
                if self.get_key(key.key_id) != key:
                    raise

    def get_key(self, key_id: str) -> ApiKey | None:
        self._ensure()
        with unavailable():
            try:
                src = self.es.get(index=self.keys_index, id=key_id)["_source"]
            except NotFoundError:
                return None
        return ApiKey(**src)

    def list_keys(self, office: str | None = None) -> list[ApiKey]:
        self._ensure()
        query: dict[str, Any] = {"term": {"office": {"value": office}}} if office else {"match_all": {}}
        with unavailable():
            resp = self.es.search(
                index=self.keys_index, query=query, size=10_000, sort=[{"created_at": {"order": "asc"}}]
            )
        return [ApiKey(**h["_source"]) for h in resp["hits"]["hits"]]

    def add_session(self, session: Session) -> None:
        self._ensure()
        doc = {f: getattr(session, f) for f in Session.__slots__}
        with unavailable():
            # No refresh: sessions are only read by id (GET is realtime). Waiting for the next
            # periodic refresh put up to a second on every sign-in.
            self.es.index(index=self.index("sessions"), id=session.session_id, document=doc)

    def get_session(self, session_id: str) -> Session | None:
        self._ensure()
        with unavailable():
            try:
                src = self.es.get(index=self.index("sessions"), id=session_id)["_source"]
            except NotFoundError:
                return None
        return Session(**src)

    def end_session(self, session_id: str, at: str) -> bool:
        found = self.get_session(session_id)
        if found is None or found.ended_at is not None:
            return False
        with unavailable():
            self.es.update(index=self.index("sessions"), id=session_id, doc={"ended_at": at})  # see add_session
        return True

    def revoke_key(self, key_id: str, at: str) -> bool:
        key = self.get_key(key_id)
        if key is None or key.revoked_at is not None:
            return False
        with unavailable():
            self.es.update(index=self.keys_index, id=key_id, doc={"revoked_at": at}, refresh=True)  # see add_key
        return True

    def audit_document(self, event: AuditEvent) -> tuple[str, dict[str, Any]]:
        """The audit entry's fresh document id and document (the event gets its time and number)."""
        self._ensure()
        event.at = event.at or iso(now_utc())
        event.id = time.time_ns()
        doc = {
            "seq": event.id,
            "at": event.at,
            "action": event.action,
            "key_id": event.key_id,
            "office": event.office,
            "role": event.role,
            "client": event.client,
            "terms": event.terms,
            "text": " ".join([*event.terms, searchable(event.terms), json.dumps(event.detail, ensure_ascii=False)]),
            "detail": event.detail,
        }
        return uuid.uuid4().hex, doc

    def record(self, event: AuditEvent) -> None:
        doc_id, doc = self.audit_document(event)
        # No refresh wait: every audited request writes here, and waiting for the next refresh
        # (1 s) would put a second on each /match; readers refresh before they search instead.
        with unavailable(), contextlib.suppress(ConflictError):
            # A conflict on a fresh random id means the client retried a create whose first
            # attempt landed (a node failed over mid-request): the entry is stored, once.
            self.es.create(index=self.audit_index, id=doc_id, document=doc)

    def events(self, where: AuditFilter = ALL_EVENTS) -> list[AuditEvent]:
        self._ensure()
        with unavailable():
            self.es.indices.refresh(index=self.audit_index)  # every entry written so far, searchable
        filters: list[dict[str, Any]] = []
        if where.office:
            filters.append({"term": {"office": {"value": where.office}}})
        if where.key_id:
            filters.append({"term": {"key_id": {"value": where.key_id}}})
        if where.since or where.until:
            rng = {k: v for k, v in (("gte", where.since), ("lt", where.until)) if v}
            filters.append({"range": {"at": rng}})
        must: list[dict[str, Any]] = []
        if where.q:
            either = [{"match_phrase": {"text": {"query": q}}} for q in dict.fromkeys([where.q, where.q_folded])]
            must.append({"bool": {"should": either, "minimum_should_match": 1}})
        with unavailable():
            resp = self.es.search(
                index=self.audit_index,
                query={"bool": {"filter": filters, "must": must}},
                size=min(where.limit, 10_000),
                sort=[{"seq": {"order": "desc"}}],
            )
        out = []
        for h in resp["hits"]["hits"]:
            s = h["_source"]
            out.append(
                AuditEvent(
                    s["action"],
                    s["key_id"],
                    s["office"],
                    s["role"],
                    s["client"],
                    s["terms"],
                    s["detail"],
                    s["at"],
                    s["seq"],
                )
            )
        return out

    def purge(self, before: str, by: AuditEvent) -> int:
        """Delete entries older than ``before`` (by id, a page at a time: this distribution of the
        server has no delete-by-query, and the ids make the deletion exact), then record the purge."""
        self._ensure()
        n = 0
        old = {"range": {"at": {"lt": before}}}
        with unavailable():
            self.es.indices.refresh(index=self.audit_index)
            while True:
                page = self.es.search(index=self.audit_index, query=old, size=1000, source=False)
                ids = [h["_id"] for h in page["hits"]["hits"]]
                if not ids:
                    break
                actions = [{"_op_type": "delete", "_index": self.audit_index, "_id": i} for i in ids]
                done, _ = helpers.bulk(self.es, actions, refresh=True, raise_on_error=False)
                n += done
                if done == 0:
                    break  # nothing deletable left (another purge took them): do not spin
        by.detail = {**by.detail, "before": before, "deleted": n}
        self.record(by)
        return n
