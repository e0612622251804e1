"""One validation point: every entry point enforces the same query limits, and a name of the
maximum length in any script is answered quickly everywhere.

Each entry point is driven as a client drives it (HTTP on loopback, the web page's form with its
session cookie, a screening job). The time bound is generous (100 ms a name on a shared 2-core
machine; measured 1-3 ms in the matcher): it is there to catch the quadratic blow-ups this suite
once missed (a 10,000-character name through /reconcile took 33 s of CPU), not to benchmark.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Iterator
from functools import partial

import httpx
import pytest

from search.settings import Settings
from tests.conftest import wait_until

LIMIT = Settings().max_name_length
_r = random.Random(3)
NAMES = {
    "simplified": "".join(_r.choice("陈大文王小明李华张伟刘洋黄志强") for _ in range(LIMIT)),
    "traditional": "".join(_r.choice("陳大文王小明李華張偉劉洋黃志強") for _ in range(LIMIT)),
    "pinyin": " ".join(_r.choice(["Chen", "Da", "Wen", "Wang", "Xiao", "Ming"]) for _ in range(LIMIT))[:LIMIT],
    "cantonese": " ".join(_r.choice(["Chan", "Tai", "Man", "Wong", "Ka", "Fai"]) for _ in range(LIMIT))[:LIMIT],
    "mixed": ("陳大文 Chan Tai Man " * LIMIT)[:LIMIT],
    "company": ("广州市星辉贸易有限公司" * LIMIT)[:LIMIT],
}
TOO_LONG = "陈" * (LIMIT + 1)
# Seconds per name: a guard against a blow-up (a 10,000-character name once took 33 s of CPU through
# /reconcile), not a speed target (bench/ measures those). 0.1 s until 5 Dec, when this 2-core
# machine ran about three times slower and a maximum-length mixed name through /reconcile on
# Elasticsearch, with other work beside the suite, ran past it.
BOUND = 0.3


@pytest.fixture(scope="module")
def web(api: httpx.Client, tokens: dict[str, str]) -> Iterator[httpx.Client]:
    """The web page, signed in as the investigator (the form posts the key, the page sets a cookie)."""
    with httpx.Client(base_url=str(api.base_url), timeout=30) as client:
        page = client.get("/ui/login").text
        token = re.search(r'name="csrf" value="([^"]+)"', page)
        assert token is not None
        r = client.post("/ui/login", data={"key": tokens["investigator"], "next": "/ui/search", "csrf": token.group(1)})
        assert r.status_code == 303 and "suspects_key" in r.cookies
        yield client


def timed(call: Callable[[], httpx.Response]) -> float:
    t0 = time.perf_counter()
    call()
    return time.perf_counter() - t0


def fastest(call: Callable[[], httpx.Response], tries: int = 3) -> tuple[httpx.Response, float]:
    """The fastest of a few identical requests (after one that warms the caches), with its
    response. A blow-up is slow every time; a busy machine only sometimes: one request of
    /match took 109 ms against the 100 ms bound while the rest of the suite ran beside it."""
    call()
    best: tuple[httpx.Response, float] | None = None
    for _ in range(tries):
        t0 = time.perf_counter()
        r = call()
        took = time.perf_counter() - t0
        if best is None or took < best[1]:
            best = (r, took)
    assert best is not None
    return best


@pytest.mark.parametrize("script", NAMES)
def test_maximum_length_name_through_match(api: httpx.Client, script: str) -> None:
    for entity_type in ("person", "company"):
        body = {"queries": [{"name": NAMES[script], "entity_type": entity_type}]}
        r, took = fastest(partial(api.post, "/match", json=body))
        assert r.status_code == 200, r.text
        assert took < BOUND


@pytest.mark.parametrize("script", NAMES)
def test_maximum_length_name_through_reconcile(api: httpx.Client, script: str) -> None:
    queries = json.dumps({"q0": {"query": NAMES[script], "type": "person"}})
    r, took = fastest(lambda: api.post("/reconcile", data={"queries": queries}))
    assert r.status_code == 200 and r.headers["X-Reconcile-Rejected"] == "0", r.text
    assert took < BOUND


@pytest.mark.parametrize("script", NAMES)
def test_maximum_length_name_through_the_web_page(web: httpx.Client, script: str) -> None:
    params = {"name": NAMES[script], "entity_type": "any"}
    r, took = fastest(lambda: web.get("/ui/search", params=params))
    assert r.status_code == 200
    assert took < 2 * BOUND  # the page searches both entity types


def test_maximum_length_names_through_a_screening(api: httpx.Client, tokens: dict[str, str]) -> None:
    rows = [{"name": n, "query_id": k} for k, n in NAMES.items()] + [{"name": TOO_LONG, "query_id": "long"}]
    headers = {"Authorization": f"Bearer {tokens['analyst']}"}
    job = api.post("/screenings", json={"rows": rows}, headers=headers).json()
    final: dict[str, object] = {}

    def done() -> bool:
        final.update(api.get(f"/screenings/{job['id']}", headers=headers).json())
        return final["status"] == "done"

    wait_until(done, 60, "the screening to finish")
    lines = [json.loads(x) for x in api.get(f"/screenings/{job['id']}/results", headers=headers).text.splitlines()]
    by_id = {x["query_id"]: x for x in lines}
    assert all("error" not in by_id[k] for k in NAMES)
    assert by_id["long"]["error"] == f"line {len(rows)}: name is {LIMIT + 1} characters; at most {LIMIT}"
    rate = final["rows_per_second"]
    assert isinstance(rate, float) and 1 / rate < BOUND


def test_one_limit_everywhere(api: httpx.Client, web: httpx.Client) -> None:
    """A name one character over the limit is refused by each entry point, with the same words."""
    words = f"name is {LIMIT + 1} characters; at most {LIMIT}"
    r = api.post("/match", json={"queries": [{"name": TOO_LONG}]})
    assert r.status_code == 422 and r.json()["error"] == {
        "code": "invalid_input",
        "message": words,
        "field": "queries.0.name",
    }
    batch = api.post("/match", json={"queries": [{"name": "陈大文"}, {"name": TOO_LONG}]})
    assert batch.status_code == 422 and batch.json()["error"]["field"] == "queries.1.name"
    rec = api.post("/reconcile", data={"queries": json.dumps({"q0": {"query": TOO_LONG}})})
    assert (
        rec.status_code == 200 and rec.json() == {"q0": {"result": []}} and rec.headers["X-Reconcile-Rejected"] == "1"
    )
    page = web.get("/ui/search", params={"name": TOO_LONG})
    assert page.status_code == 422 and words in page.text
    ten_thousand = "陈" * 10_000
    assert (
        timed(lambda: api.post("/reconcile", data={"queries": json.dumps({"q0": {"query": ten_thousand}})})) < BOUND * 5
    )


def test_the_web_page_and_the_api_take_the_same_watchlist_size(api: httpx.Client, tokens: dict[str, str]) -> None:
    """A 3 MB watchlist (over the 2 MB body limit, under the upload limit) is taken by the web page
    as by the API (issue #18: the page refused it). Its names are over the length limit, so every row
    is rejected at once and the job costs the shared server nothing."""
    data = ("query_id,name\n" + "".join(f"w{i},{'陈' * (LIMIT + 10)}\n" for i in range(5_000))).encode("utf-8")
    assert 2_000_000 < len(data) < 50_000_000
    with httpx.Client(base_url=str(api.base_url), timeout=60) as web:
        token = re.search(r'name="csrf" value="([^"]+)"', web.get("/ui/login").text)
        assert token is not None
        login = {"key": tokens["analyst"], "next": "/ui/screenings", "csrf": token.group(1)}
        assert web.post("/ui/login", data=login).status_code == 303
        r = web.post("/ui/screenings", data={"csrf": token.group(1)}, files={"file": ("big.csv", data, "text/csv")})
        assert r.status_code == 303, r.text[:300]
        job = r.headers["location"].rsplit("/", 1)[1]
        assert web.get(f"/ui/screenings/{job}/status").json()["rows_total"] == 5_000
