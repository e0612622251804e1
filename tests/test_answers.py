"""Answers an investigator can trust at a glance (issue #15), through the real entry points on both
backends: no false "not seen" for an untyped company name or a missing store, hits grouped into
distinct entities, and bad input refused with exit code 2 before any output is written."""

from __future__ import annotations

import csv
import json
import re
import shlex
import socket
from itertools import pairwise
from pathlib import Path

import httpx

from search.settings import Settings
from tests.backends import Backend, make_tokens
from tests.conftest import Server, _free_port, serve_process, wait_until
from tests.test_cli import run

COMPANY_HAN = "广州市星辉贸易有限公司"
COMPANY_EN = "Guangzhou Xinghui Trading Co., Ltd."


def test_untyped_company_name_is_found_over_http(api: httpx.Client) -> None:
    queries = [{"query_id": "han", "name": COMPANY_HAN}, {"query_id": "en", "name": COMPANY_EN}]
    results = {r["query_id"]: r for r in api.post("/match", json={"queries": queries}).json()["results"]}
    for qid in ("han", "en"):
        assert results[qid]["seen"] is True, results[qid]
        assert "CN-GD" in results[qid]["offices"]
        assert results[qid]["searched_as"] == ["company"]
        assert "有限公司" in results[qid]["assumed"] or "co ltd" in results[qid]["assumed"]
    # A person's name without a type is searched both ways, and the answer says so.
    [person] = api.post("/match", json={"queries": [{"name": "陳大文"}]}).json()["results"]
    assert person["searched_as"] == ["person", "company"] and person["seen"] is True


def test_untyped_company_name_is_found_by_cli_and_watchlist(loaded: Settings, tmp_path: Path) -> None:
    r = run("search", COMPANY_HAN, "--json", store=loaded)
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    assert body["seen"] is True and "CN-GD" in body["offices"]
    watchlist = tmp_path / "w.csv"
    watchlist.write_text(f'query_id,name,entity_type\nc1,"{COMPANY_EN}",\np1,陳大文,\n', encoding="utf-8")
    r = run("check", str(watchlist), store=loaded)
    assert r.returncode == 0, r.stderr
    rows = {json.loads(line)["query_id"]: json.loads(line) for line in r.stdout.splitlines()}
    assert rows["c1"]["seen"] is True and rows["p1"]["seen"] is True


def test_namesakes_are_told_apart(api: httpx.Client, loaded: Settings) -> None:
    """陳大文 without a birth date: the 1971 man held by three offices, the 1980 namesake by one."""
    [result] = api.post("/match", json={"queries": [{"name": "陳大文", "entity_type": "person"}]}).json()["results"]
    groups = {frozenset(e["offices"]): e for e in result["entities"]}
    assert set(groups) == {frozenset({"CN-GD", "CN-HK", "CN-MO"}), frozenset({"CN-FJ"})}, result["entities"]
    assert groups[frozenset({"CN-FJ"})]["birth_dates"] == ["1980-05-02"]
    assert groups[frozenset({"CN-GD", "CN-HK", "CN-MO"})]["birth_dates"] == ["1971-02-11"]
    assert sorted(i for e in result["entities"] for i in e["matches"]) == list(range(len(result["matches"])))
    later = result["entities"][1]
    assert any("birth date conflicts" in why for why in later["separated_by"]), later
    assert result["summary"].startswith("2 different people match this name")
    # With the birth date the namesake is no longer a match, and one entity remains.
    [dated] = api.post("/match", json={"queries": [{"name": "陳大文", "birth_date": "1971-02-11"}]}).json()["results"]
    assert len(dated["entities"]) == 1 and dated["summary"].startswith("one person")
    r = run("search", "陳大文", "--type", "person", store=loaded)
    assert "2 different people match this name" in r.stdout and "birth date conflicts" in r.stdout, r.stdout


def test_reading_commands_refuse_a_missing_store(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    for args in (["search", "陈大文"], ["stats"], ["withdraw", "CN-GD", "x"], ["serve", "--port", "1"]):
        r = run(*args, store=missing)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert r.stderr.strip().startswith("error: no store at"), r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
        assert not missing.exists()


def test_reading_commands_refuse_an_empty_store(backend: Backend, tmp_path: Path) -> None:
    settings = backend.settings(tmp_path)
    rejected = tmp_path / "cn-gd.csv"
    rejected.write_text("编号,姓名\nx1,\n", encoding="utf-8")  # its only row is rejected: nothing stored
    assert run("load", str(rejected), store=settings).returncode == 0
    watchlist = tmp_path / "w.csv"
    watchlist.write_text("name\n陈大文\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    for args in (["search", "陈大文"], ["check", str(watchlist), "--out", str(out)]):
        r = run(*args, store=settings)
        assert r.returncode == 2 and "holds no records" in r.stderr, (args, r.stderr)
    assert not out.exists()


def test_check_refuses_before_writing(loaded: Settings, tmp_path: Path) -> None:
    watchlist = tmp_path / "w.csv"
    watchlist.write_text("name\n陈大文\n", encoding="utf-8")
    xlsx = tmp_path / "results.xlsx"
    r = run("check", str(watchlist), "--out", str(xlsx), store=loaded)
    assert r.returncode == 2 and ".xlsx" in r.stderr and not xlsx.exists()
    no_name = tmp_path / "bad.csv"
    no_name.write_text("foo,bar\n1,2\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    r = run("check", str(no_name), "--out", str(out), store=loaded)
    assert r.returncode == 2 and "missing required column: name" in r.stderr and not out.exists()
    r = run("check", str(watchlist), "--out", str(out), store=loaded)
    assert r.returncode == 0
    assert next(iter(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines())))["seen"] == "true"


def test_bad_options_exit_2(loaded: Settings) -> None:
    for args, says in (
        (["audit", "--since", "notadate"], "since must be an ISO date"),
        (["audit", "--until", "2026-13-01"], "until must be an ISO date"),
        (["eval", "--per-category", "-5"], "per-category"),
    ):
        r = run(*args, store=loaded)
        assert r.returncode == 2 and says in r.stderr, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1


def test_cli_search_is_audited_and_found_in_any_script(backend: Backend, loaded: Settings, tmp_path: Path) -> None:
    name = "陳小明"  # traditional; searched for below in simplified
    assert run("search", name, store=loaded).returncode == 0
    r = run("audit", "--q", "陈小明", "--csv", store=loaded)
    assert r.returncode == 0, r.stderr
    rows = [row for row in csv.reader(r.stdout.splitlines()[1:]) if row[2] == "match"]
    assert rows and rows[0][3] == "cli" and rows[0][6].startswith("cli:") and name in rows[0][7], r.stdout


def test_results_tell_namesakes_apart_and_say_rejected(loaded: Settings, tmp_path: Path) -> None:
    watchlist = tmp_path / "w.csv"
    watchlist.write_text("query_id,name,birth_date\na,陳大文,\nb,,\nc,Chan Tai Man,1971-02-11\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    assert run("check", str(watchlist), "--out", str(out), store=loaded).returncode == 0
    rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    a = [r for r in rows if r["query_id"] == "a"]
    assert {r["matched_birth_date"] for r in a} == {"1971-02-11", "1980-05-02"}
    assert {r["entity"] for r in a} == {"1", "2"}
    by_dob = {r["matched_birth_date"]: r["entity"] for r in a}
    assert by_dob["1971-02-11"] != by_dob["1980-05-02"]
    [b] = [r for r in rows if r["query_id"] == "b"]
    assert b["seen"] == "rejected" and b["error"] == "line 3: name is empty"
    c = [r for r in rows if r["query_id"] == "c"]
    assert c and all(r["query_birth_date"] == "1971-02-11" == r["matched_birth_date"] for r in c)
    r = run("check", str(watchlist), store=loaded)
    lines = {json.loads(x)["query_id"]: json.loads(x) for x in r.stdout.splitlines()}
    assert lines["b"]["seen"] is None and lines["a"]["query"]["name"] == "陳大文"
    assert all(m["birth_date"] for m in lines["a"]["matches"])


def test_a_profile_encoding_is_a_fallback_not_a_refusal(sample_files: dict[str, Path], tmp_path: Path) -> None:
    """The HK profile says Big5-HKSCS and the GD profile UTF-8; good UTF-8 named cn-hk.csv and a
    GB18030 export under --profile cn-gd both load, and headers that fit another shipped profile
    are named in the error."""
    hk_text = sample_files["CN-HK"].read_bytes().decode("big5hkscs")
    folder = tmp_path / "in"
    folder.mkdir()
    utf8_hk = folder / "cn-hk.csv"
    utf8_hk.write_text(hk_text, encoding="utf-8")
    gb_gd = folder / "guangdong-export.csv"
    gb_gd.write_bytes(sample_files["CN-GD"].read_text(encoding="utf-8-sig").encode("gb18030"))
    store = tmp_path / "s.db"
    for args in (["load", str(utf8_hk)], ["load", "--profile", "cn-gd", str(gb_gd)]):
        r = run(*args, "--json", store=store)
        assert r.returncode == 0, r.stderr
        [report] = json.loads(r.stdout)
        assert report["read"] > 100 and report["rejected"] == 0, report
    r = run("search", "陳大文", "--json", store=store)
    assert {"CN-GD", "CN-HK"} <= set(json.loads(r.stdout)["offices"])
    other = folder / "hk-export.csv"
    other.write_text(hk_text, encoding="utf-8")
    r = run("load", "--profile", "cn-gd", str(other), store=store)
    assert r.returncode == 2 and "missing required column" in r.stderr and "cn-hk" in r.stderr, r.stderr


def test_demo_refuses_a_taken_port_before_loading(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        store = tmp_path / "demo.db"
        r = run("demo", "--port", str(port), "--folder", str(tmp_path / "sample"), store=store)
    assert r.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in r.stderr and "--port" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not store.exists() and not (tmp_path / "sample").exists()  # nothing loaded


def readme_blocks() -> list[tuple[str, str]]:
    """(language, text) of every fenced block in the README's "A real query" section."""
    text = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = text.split("## A real query", 1)[1].split("\n## ", 1)[0]
    return [(lang, body) for lang, body in re.findall(r"```(\w*)\n(.*?)```", section, re.S)]


def test_readme_query_examples_are_real_outputs(api: httpx.Client, loaded: Settings) -> None:
    """The README's queries, run against the sample store (the demo's), print what it shows."""
    blocks = readme_blocks()
    shown_cli = [(cmd, out) for (lang, cmd), (lang2, out) in pairwise(blocks)
                 if lang == "sh" and lang2 == "text" and cmd.startswith("suspects search ")]  # fmt: skip
    assert len(shown_cli) >= 2
    for command, printed in shown_cli:
        r = run(*shlex.split(command.strip())[1:], store=loaded)
        assert r.stdout == printed, r.stdout
    curl = next(body for lang, body in blocks if lang == "sh" and body.startswith("curl"))
    body = re.search(r"-d '(.*)'", curl, re.S)
    assert body is not None, curl
    request = json.loads(body.group(1))
    shown = json.loads(next(body for lang, body in blocks if lang == "json"))
    answer = api.post("/match", json=request).json()
    for got in (answer, shown):
        got.pop("took_ms")
    assert answer == shown


def test_possible_is_said_everywhere_and_never_seen(api: httpx.Client, tokens: dict[str, str]) -> None:
    """ "Chen Dewen" is one whole syllable off 陳大文: not seen, but every 陳大文 record is worth a
    look, with why; OpenRefine never calls it a match; a screening's CSV says "possible"."""
    [result] = api.post("/match", json={"queries": [{"name": "Chen Dewen", "entity_type": "person"}]}).json()["results"]
    assert result["seen"] is False and result["matches"] == []
    offices = {m["office"] for m in result["possible"]}
    assert {"CN-GD", "CN-HK", "CN-MO", "CN-FJ"} <= offices, result["possible"]
    for m in result["possible"]:
        assert m["verdict"] == "possible" and "differs by a whole syllable" in m["doubt"]
    # The same name with the right syllable is a match, and no longer only possible.
    [exact] = api.post("/match", json={"queries": [{"name": "Chen Dawen", "entity_type": "person"}]}).json()["results"]
    assert exact["seen"] is True and all(m["verdict"] == "match" for m in exact["matches"])
    batch = json.dumps({"q0": {"query": "Chen Dewen", "type": "person"}})
    found = api.post("/reconcile", data={"queries": batch}).json()["q0"]["result"]
    assert found and not any(c["match"] for c in found)
    headers = {"Authorization": f"Bearer {tokens['analyst']}"}
    rows = [{"query_id": "p", "name": "Chen Dewen", "entity_type": "person"}]
    job = api.post("/screenings", json={"rows": rows}, headers=headers).json()
    wait_until(
        lambda: api.get(f"/screenings/{job['id']}", headers=headers).json()["status"] == "done", 60, "the screening"
    )
    text = api.get(f"/screenings/{job['id']}/results", params={"format": "csv"}, headers=headers).text
    csv_rows = list(csv.DictReader(text.lstrip("\ufeff").splitlines()))
    assert csv_rows and {r["verdict"] for r in csv_rows} == {"possible"} and {r["seen"] for r in csv_rows} == {"false"}
    assert all(r["doubt"] for r in csv_rows)


def test_audit_csv_escapes_formulas(backend: Backend, loaded: Settings, tmp_path: Path) -> None:
    """A searched name that looks like a formula is exported as text (issue #18)."""
    evil = '=HYPERLINK("http://attacker.example","x")'
    run("search", evil, store=loaded)
    r = run("audit", "--q", "HYPERLINK", "--csv", store=loaded)
    rows = [row for row in csv.reader(r.stdout.splitlines()[1:]) if row[2] == "match"]
    assert rows and all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row), rows
    assert rows[0][7] == "'" + evil


def test_a_record_id_with_a_slash_can_be_read_and_withdrawn(
    backend: Backend, loaded: Settings, sample_files: dict[str, Path], tmp_path: Path
) -> None:
    """Offices number cases "GD/2024/7": such a record loads, and must be readable and withdrawable
    over HTTP too (issue #18)."""
    settings = backend.copy(loaded, sample_files, tmp_path)
    tokens = make_tokens(settings)
    with Server(settings) as server, httpx.Client(base_url=server.url, timeout=30) as c:
        admin = {"Authorization": f"Bearer {tokens['office-admin']}"}
        reader = {"Authorization": f"Bearer {tokens['investigator']}"}
        upload = {"file": ("cn-gd.csv", "编号,类型,姓名/名称\nGD/2024/7,个人,李志强\n".encode(), "text/csv")}
        assert c.post("/offices/CN-GD/records", files=upload, headers=admin).json()["stored"] == 1
        # The upload is audited when it starts and when it finishes (issue #18).
        auditor = {"Authorization": f"Bearer {tokens['auditor']}"}
        trail = c.get("/audit", params={"q": "cn-gd.csv"}, headers=auditor).json()
        assert [e["action"] for e in trail if e["action"].startswith("load")] == ["load", "load.start"]
        got = c.get("/records/CN-GD/GD/2024/7", headers=reader)
        assert got.status_code == 200 and got.json()["record"]["record_id"] == "GD/2024/7"
        assert c.delete("/offices/CN-GD/records/GD/2024/7", headers=admin).json() == {"withdrawn": "CN-GD:GD/2024/7"}
        assert c.get("/records/CN-GD/GD/2024/7", headers=reader).status_code == 404


def test_forwarded_for_is_not_believed_by_default(backend: Backend, loaded: Settings) -> None:
    """The audit's client address cannot be forged from a local connection (issue #18)."""
    port = _free_port()
    proc = serve_process(loaded, port, backend)
    try:
        token = make_tokens(loaded)["investigator"]
        headers = {"Authorization": f"Bearer {token}", "X-Forwarded-For": "203.0.113.66"}
        body = {"queries": [{"name": "XFF 测试 张三丰"}]}
        assert httpx.post(f"http://127.0.0.1:{port}/match", json=body, headers=headers, timeout=30).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    r = run("audit", "--q", "张三丰", "--csv", store=loaded)
    rows = [row for row in csv.reader(r.stdout.splitlines()[1:]) if row[2] == "match"]
    assert rows and rows[0][6] == "127.0.0.1", rows


def test_an_english_brand_is_found_however_its_pinyin_splits(
    backend: Backend, loaded: Settings, sample_files: dict[str, Path], tmp_path: Path
) -> None:
    """ "Jilian" reads ji-lian, 吉丽安 ji-li-an: the query looks up both splits (both backends)."""
    store_copy = backend.copy(loaded, sample_files, tmp_path)
    src = tmp_path / "jx.csv"
    src.write_text("record_id,name,entity_type\nJX-1,新余市吉丽安激光有限责任公司,company\n", encoding="utf-8")
    r = run("load", str(src), "--office", "CN-JX", store=store_copy)
    assert r.returncode == 0, r.stderr
    r = run("search", "Xinyu Jilian Lasers Co., Ltd.", "--json", store=store_copy)
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    assert body["seen"] is True and [m["record_id"] for m in body["matches"]] == ["JX-1"], body


def test_taiwan_szu_and_a_slipped_personal_spelling_are_found(
    backend: Backend, loaded: Settings, sample_files: dict[str, Path], tmp_path: Path
) -> None:
    """Wade-Giles writes 思 ssu or szu: a record "Wu Szu-yao" is 吳思瑤 from either side, a match.
    "Cheng Jui-yuh" is 程瑞悦 (yüeh) with a letter dropped, where "yuh" is the personal spelling
    of yu: found, and only worth a look (both backends)."""
    store_copy = backend.copy(loaded, sample_files, tmp_path)
    src = tmp_path / "tw.csv"
    src.write_text("record_id,name,entity_type\nTW-1,Wu Szu-yao,person\nTW-2,程瑞悦,person\n", encoding="utf-8")
    r = run("load", str(src), "--office", "CN-FJ", store=store_copy)
    assert r.returncode == 0, r.stderr
    r = run("search", "吳思瑤", "--type", "person", "--json", store=store_copy)
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    assert [m["record_id"] for m in body["matches"]] == ["TW-1"], body
    r = run("search", "Cheng Jui-yuh", "--type", "person", "--json", store=store_copy)
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    assert not body["matches"] and [m["record_id"] for m in body["possible"]] == ["TW-2"], body
