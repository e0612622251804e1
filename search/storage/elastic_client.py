"""The one place Elasticsearch clients are made and index mappings are read.

Every Elasticsearch store (records, keys and audit, screening jobs; sync and async) builds its
client here, so timeouts and retries are set once, and creates its indexes from the JSON files in
``mappings/`` through :func:`ensure_indexes`. Every failure to reach the cluster becomes
:class:`~search.errors.StoreUnavailable` (HTTP 503 + Retry-After) through :func:`unavailable`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from elasticsearch import ApiError, AsyncElasticsearch, BadRequestError, Elasticsearch, TransportError
from elasticsearch.serializer import OrjsonSerializer

from search.errors import StoreUnavailable

MAPPINGS_DIR = Path(__file__).resolve().parent.parent.parent / "mappings"
# Statuses worth retrying: overloaded or a node restarting behind a proxy.
RETRY_STATUSES = (429, 502, 503, 504)


@contextmanager
def unavailable() -> Iterator[None]:
    """Translate cluster failures (unreachable, timing out, overloaded) into StoreUnavailable."""
    try:
        yield
    except (TransportError, ApiError) as exc:
        if isinstance(exc, ApiError) and exc.meta.status not in RETRY_STATUSES:
            raise
        raise StoreUnavailable(f"Elasticsearch unavailable: {exc.__class__.__name__}") from exc


def hosts(url: str | None) -> list[str]:
    """The nodes in ``es_url``: one URL, or several separated by commas (every node of a cluster,
    so that the client fails over to another when one goes down)."""
    return [u.strip() for u in (url or "").split(",") if u.strip()]


def _options(timeout: float) -> dict[str, Any]:
    """What both clients share: ``timeout`` seconds per request, 3 retries on timeouts, on
    connection errors (the next node) and on 429/502/503/504 (the client backs off between them);
    JSON through orjson, where the stdlib's decoder builds its objects in Python: on the realistic
    100k workload against one local node, 11.69 / 11.73 ms of the server's CPU a single `/match`
    against 12.11 / 12.07 ms (alternated), and the 10,000 standing entries' snapshot a watched load
    reads decoded in 0.47 s against 0.58 s."""
    return {
        "request_timeout": timeout,
        "max_retries": 3,
        "retry_on_timeout": True,
        "retry_on_status": RETRY_STATUSES,
        "serializer": OrjsonSerializer(),
    }


def make_client(url: str | None, timeout: float) -> Elasticsearch:
    """The sync client (:func:`_options`)."""
    return Elasticsearch(hosts(url), **_options(timeout))


def make_async_client(url: str, timeout: float) -> AsyncElasticsearch:
    """The async client, with the same nodes, timeouts, retries and JSON as :func:`make_client`."""
    return AsyncElasticsearch(hosts(url), **_options(timeout))


def load_mapping(name: str) -> dict[str, Any]:
    """``mappings/<name>.json``: the exact body of index creation (``settings`` and ``mappings``)."""
    path = MAPPINGS_DIR / f"{name}.json"
    if not path.exists():
        raise StoreUnavailable(f"mapping file missing: {path}")  # a packaging error, not a user's
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def ensure_indexes(es: Elasticsearch, indexes: Mapping[str, str]) -> None:
    """Create each ``index`` from its mapping file (``{index: mapping name}``); an index that exists
    gets the fields its mapping file gained since (an additive change Elasticsearch applies in place;
    a strict mapping would refuse documents carrying them). One request reads every mapping: a
    check and a put per index were 28 requests in every command that opens a store (about 0.2 s
    of each office file's load on a local node)."""
    with unavailable():
        found = es.indices.get_mapping(index=list(indexes), ignore_unavailable=True, allow_no_indices=True).body
        for index, name in indexes.items():
            body = load_mapping(name)
            if index in found:
                wanted = body["mappings"]["properties"]
                if _missing(wanted, found[index].get("mappings", {}).get("properties", {})):
                    es.indices.put_mapping(index=index, properties=wanted)
                continue
            try:
                es.indices.create(index=index, settings=body["settings"], mappings=body["mappings"])
            except BadRequestError as exc:
                # Another thread or server created it between the check and the create: fine.
                if exc.error != "resource_already_exists_exception":
                    raise


def _missing(wanted: Mapping[str, Any], have: Mapping[str, Any]) -> bool:
    """Does the mapping file name a field (at any depth) the index lacks?"""
    for field, spec in wanted.items():
        if field not in have:
            return True
        inner = spec.get("properties")
        if inner and _missing(inner, have[field].get("properties", {})):
            return True
    return False


class ElasticIndexes:
    """A store kept in a few Elasticsearch indexes beside the records (keys and audit, screening
    jobs): one client from :func:`make_client`, and its indexes created from their mapping files on
    first use (``INDEXES``: index name suffix → mapping file name)."""

    INDEXES: ClassVar[dict[str, str]] = {}

    def __init__(
        self, url: str | None = None, prefix: str = "suspects", client: Elasticsearch | None = None, timeout: float = 10
    ) -> None:
        self.es = client or make_client(url, timeout)
        self.prefix = prefix
        self._ready = False

    def index(self, suffix: str) -> str:
        """The full name of one of this store's indexes."""
        return f"{self.prefix}-{suffix}"

    @property
    def ready(self) -> bool:
        """Whether this process has made sure of its indexes (see :meth:`ensure`)."""
        return self._ready

    def ensure(self) -> None:
        """Create or complete the indexes, once per process (a request to the cluster)."""
        self._ensure()

    def _ensure(self) -> None:
        if not self._ready:
            ensure_indexes(self.es, {self.index(suffix): name for suffix, name in self.INDEXES.items()})
            self._ready = True

    def close(self) -> None:
        self.es.close()
