"""Keys and the audit trail in Elasticsearch, beside the records (indexes ``<prefix>-keys`` and
``<prefix>-audit``, mappings in ``mappings/keys.json`` and ``mappings/audit.json``).

Audit entries are only ever created (``op_type=create`` with a fresh id); the service has no code
path that updates or deletes one except the retention purge, which records itself. On a secured
cluster, give the API's Elasticsearch credentials ``create_doc`` (not ``write``) on the audit index
so that the rule holds for anyone holding them too.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from search.access import ApiKey, AuditEvent, iso, now_utc
from search.es_store import MAPPINGS_DIR, make_client, unavailable


def _mapping(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((MAPPINGS_DIR / name).read_text("utf-8"))
    return data


class ElasticsearchAccess:
    """API keys and audit events in two Elasticsearch indexes."""

    def __init__(
        self,
        url: str | None = None,
        prefix: str = "suspects",
        client: Elasticsearch | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.es = client or make_client(url, timeout)
        self.keys_index = f"{prefix}-keys"
        self.audit_index = f"{prefix}-audit"
        self._ready = False

    def _ensure(self) -> None:
        if self._ready:
            return
        with unavailable():
            for index, mapping in ((self.keys_index, "keys.json"), (self.audit_index, "audit.json")):
                if not self.es.indices.exists(index=index):
                    body = _mapping(mapping)
                    self.es.indices.create(index=index, settings=body["settings"], mappings=body["mappings"])
        self._ready = True

    def add_key(self, key: ApiKey) -> None:
        self._ensure()
        doc = {f: getattr(key, f) for f in ApiKey.__slots__}
        with unavailable():
            self.es.create(index=self.keys_index, id=key.key_id, document=doc, refresh="wait_for")

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

    def revoke_key(self, key_id: str, at: str) -> bool:
        key = self.get_key(key_id)
        if key is None or key.revoked_at is not None:
            return False
        with unavailable():
            self.es.update(index=self.keys_index, id=key_id, doc={"revoked_at": at}, refresh="wait_for")
        return True

    def record(self, event: AuditEvent) -> None:
        self._ensure()
        event.at = event.at or iso(now_utc())
        seq = time.time_ns()
        doc = {
            "seq": seq,
            "at": event.at,
            "action": event.action,
            "key_id": event.key_id,
            "office": event.office,
            "role": event.role,
            "client": event.client,
            "terms": event.terms,
            "text": " ".join(event.terms) + " " + json.dumps(event.detail, ensure_ascii=False),
            "detail": event.detail,
        }
        with unavailable():
            self.es.create(index=self.audit_index, id=uuid.uuid4().hex, document=doc, refresh="wait_for")
        event.id = seq

    def events(
        self,
        office: str | None = None,
        key_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
        q: str | None = None,
        limit: int = 1000,
    ) -> list[AuditEvent]:
        self._ensure()
        filters: list[dict[str, Any]] = []
        if office:
            filters.append({"term": {"office": {"value": office}}})
        if key_id:
            filters.append({"term": {"key_id": {"value": key_id}}})
        if since or until:
            rng = {k: v for k, v in (("gte", since), ("lt", until)) if v}
            filters.append({"range": {"at": rng}})
        must: list[dict[str, Any]] = [{"match_phrase": {"text": {"query": q}}}] if q else []
        with unavailable():
            resp = self.es.search(
                index=self.audit_index,
                query={"bool": {"filter": filters, "must": must}},
                size=min(limit, 10_000),
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
        self._ensure()
        with unavailable():
            resp = self.es.delete_by_query(
                index=self.audit_index, query={"range": {"at": {"lt": before}}}, refresh=True, conflicts="proceed"
            )
        n = int(resp.get("deleted", 0))
        by.detail = {**by.detail, "before": before, "deleted": n}
        self.record(by)
        return n

    def close(self) -> None:
        self.es.close()
