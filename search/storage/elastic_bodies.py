"""Request bodies of the Elasticsearch records backend, and reading their answers.

Pure functions (no client): the candidate search, the stored document, msearch batches and the
health summary. ``tests/test_es_spec.py`` validates each body against the Elasticsearch
specification, and the suite runs them against a real cluster.
"""

from __future__ import annotations

import json
from base64 import b64decode, b64encode
from collections.abc import Sequence
from typing import Any

from indexer.records import Record
from search.errors import StoreUnavailable
from search.storage.base import Candidate, StoredRecord


def candidate_query(
    keys: dict[str, float], entity_type: str, offices: Sequence[str] | None, limit: int, source: bool = True
) -> dict[str, Any]:
    """The search body for one query's candidates (long forms, as the API specification models them);
    without the documents when ``source`` is false (a watch screening wants ids and weights only)."""
    filters: list[dict[str, Any]] = [{"term": {"entity_type": {"value": entity_type}}}]
    if offices:
        filters.append({"terms": {"office": list(offices)}})
    should = [{"constant_score": {"filter": {"term": {"keys": {"value": k}}}, "boost": w}} for k, w in keys.items()]
    return {
        "query": {"bool": {"filter": filters, "should": should, "minimum_should_match": 1}},
        "size": limit,
        "sort": [{"_score": {"order": "desc"}}, {"doc_id": {"order": "asc"}}],
        "_source": source,
        "track_total_hits": False,
    }


def document_json(item: StoredRecord) -> str:
    """The stored document as JSON text: the record's fields (``item.body``, exactly
    ``Record.to_dict``), its document id, digest and keys. Built by appending to the record's JSON
    rather than parsing and re-serializing it: the loader sends a million of these, and the round
    trip cost more than computing the keys."""
    extra = json.dumps(
        {
            "doc_id": item.id,
            "digest": item.digest,
            "keys": list(item.keys),
            "profile": b64encode(item.profile).decode(),
        },
        ensure_ascii=False,
    )
    return item.body[:-1] + ", " + extra[1:] if item.body != "{}" else extra


def msearch_body(
    alias: str, queries: Sequence[tuple[dict[str, float], str]], offices: Sequence[str] | None, limit: int
) -> list[dict[str, Any]]:
    """Header and body lines of one msearch: every query's candidate search."""
    searches: list[dict[str, Any]] = []
    for keys, entity_type in queries:
        searches.append({"index": alias})
        searches.append(candidate_query(keys or {"-": 0.0}, entity_type, offices, limit))
    return searches


def candidates_from_msearch(resp: Any) -> list[list[Candidate]]:
    """Candidates per query from an msearch response; a failed sub-search means unavailable."""
    out: list[list[Candidate]] = []
    for r in resp["responses"]:
        if "error" in r:
            raise StoreUnavailable(f"Elasticsearch search failed: {r['error'].get('type', 'error')}")
        out.append([candidate_of(h) for h in r["hits"]["hits"]])
    return out


def health_details(health: Any, alias: str, targets: list[str]) -> dict[str, object]:
    """/readyz details; a red cluster is not ready."""
    if health["status"] == "red":
        raise StoreUnavailable("Elasticsearch cluster health is red")
    return {"backend": "elasticsearch", "cluster": health["status"], "alias": alias, "index": targets}


def record_of(source: dict[str, Any]) -> Record:
    """The record in a hit's ``_source`` (the document minus its keys)."""
    return Record.from_dict(source)


def candidate_of(hit: dict[str, Any]) -> Candidate:
    """A search hit as a candidate: its record, and the profile the load kept with it."""
    kept = hit["_source"].get("profile")
    return Candidate(hit["_id"], float(hit["_score"]), record_of(hit["_source"]), b64decode(kept) if kept else None)
