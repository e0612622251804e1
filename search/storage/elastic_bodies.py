"""Request bodies of the Elasticsearch records backend, and reading their answers.

Pure functions (no client): the candidate search, the stored document, msearch batches and the
health summary. ``tests/test_es_spec.py`` validates each body against the Elasticsearch
specification, and the suite runs them against a real cluster.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from indexer.records import Record
from search.errors import StoreUnavailable
from search.storage.base import Candidate, StoredRecord


def candidate_query(
    keys: dict[str, float],
    entity_type: str,
    offices: Sequence[str] | None,
    limit: int,
    floor: float | None = None,
) -> dict[str, Any]:
    """The search body for one query's candidates (long forms, as the API specification models them).

    Candidates are the top ``limit`` by (score desc, doc_id asc), as SQLite ranks them. Sorting on
    ``doc_id`` as well makes Lucene collect every matching document (it cannot skip the ones that
    cannot compete), which was most of the tail: took p99 19 ms against 8 ms by score alone on
    300,000 records. So the first pass sorts by score only and asks for one hit more than needed:
    if that extra hit scores below the last one kept, the kept hits are exactly the top ``limit``
    and Python orders their ties by id (:func:`settle`). Only when a tie straddles the cut does a
    second, exact pass run — sorted by id too, and only over documents scoring at least ``floor``."""
    filters: list[dict[str, Any]] = [{"term": {"entity_type": {"value": entity_type}}}]
    if offices:
        filters.append({"terms": {"office": list(offices)}})
    should = [{"constant_score": {"filter": {"term": {"keys": {"value": k}}}, "boost": w}} for k, w in keys.items()]
    body: dict[str, Any] = {
        "query": {"bool": {"filter": filters, "should": should, "minimum_should_match": 1}},
        "size": limit + 1 if floor is None else limit,
        "sort": [{"_score": {"order": "desc"}}],
        "_source": True,
        "track_total_hits": False,
    }
    if floor is not None:
        body["sort"].append({"doc_id": {"order": "asc"}})
        body["min_score"] = floor
    return body


def document(item: StoredRecord) -> dict[str, Any]:
    """The stored document: the record's fields, its digest and its keys."""
    rec = json.loads(item.body)
    return {
        "doc_id": item.id,
        "office": item.office,
        "record_id": item.record_id,
        "entity_type": item.entity_type,
        "digest": item.digest,
        "name": rec["name"],
        "aliases": rec.get("aliases") or [],
        "id_number": rec.get("id_number"),
        "birth_date": rec.get("birth_date"),
        "gender": rec.get("gender"),
        "phone": rec.get("phone"),
        "address": rec.get("address"),
        "case_id": rec.get("case_id"),
        "case_date": rec.get("case_date"),
        "offence": rec.get("offence"),
        "attributes": rec.get("attributes") or {},
        "keys": list(item.keys),
    }


def document_json(item: StoredRecord) -> str:
    """:func:`document` as JSON text, built from the record's stored JSON without parsing it again:
    the loader sends a million of these, and parsing and re-serializing each cost more than
    computing its keys. ``item.body`` holds exactly the record's fields (``Record.to_dict``)."""
    extra = json.dumps({"doc_id": item.id, "digest": item.digest, "keys": list(item.keys)}, ensure_ascii=False)
    return item.body[:-1] + ", " + extra[1:] if item.body != "{}" else extra


def msearch_body(
    alias: str,
    queries: Sequence[tuple[dict[str, float], str]],
    offices: Sequence[str] | None,
    limit: int,
    floors: Sequence[float | None] | None = None,
) -> list[dict[str, Any]]:
    """Header and body lines of one msearch: every query's candidate search (the first pass, or
    with ``floors`` the exact pass)."""
    searches: list[dict[str, Any]] = []
    for i, (keys, entity_type) in enumerate(queries):
        searches.append({"index": alias})
        floor = floors[i] if floors is not None else None
        searches.append(candidate_query(keys or {"-": 0.0}, entity_type, offices, limit, floor))
    return searches


def candidates_from_msearch(resp: Any) -> list[list[Candidate]]:
    """Candidates per query from an msearch response, as returned; a failed sub-search means
    unavailable."""
    out: list[list[Candidate]] = []
    for r in resp["responses"]:
        if "error" in r:
            raise StoreUnavailable(f"Elasticsearch search failed: {r['error'].get('type', 'error')}")
        out.append([Candidate(h["_id"], float(h["_score"]), record_of(h["_source"])) for h in r["hits"]["hits"]])
    return out


def settle(first: list[list[Candidate]], limit: int) -> tuple[list[list[Candidate] | None], list[float | None]]:
    """From the first pass (score order, one extra hit): each query's final candidates, ordered by
    (score desc, id asc); or None with the score floor of its exact pass, when a tie straddles the
    cut (the extra hit scores as much as the last kept, so which tied ids belong is unknown)."""
    done: list[list[Candidate] | None] = []
    floors: list[float | None] = []
    for cands in first:
        if len(cands) > limit and cands[limit].weight == cands[limit - 1].weight:
            done.append(None)
            floors.append(cands[limit - 1].weight)
        else:
            done.append(sorted(cands[:limit], key=lambda c: (-c.weight, c.id)))
            floors.append(None)
    return done, floors


def health_details(health: Any, alias: str, targets: list[str]) -> dict[str, object]:
    """/readyz details; a red cluster is not ready."""
    if health["status"] == "red":
        raise StoreUnavailable("Elasticsearch cluster health is red")
    return {"backend": "elasticsearch", "cluster": health["status"], "alias": alias, "index": targets}


def record_of(source: dict[str, Any]) -> Record:
    """The record in a hit's ``_source`` (the document minus its keys)."""
    return Record.from_dict(source)
