"""A reload that changes records the standing entries have pairs on, on both backends: the records'
new verdicts replace the pairs' exactly as /match gives them. A changed record that still shares at
least the key weight its pair was ranked at lets no other record into the entry's K best, so the
entry is not looked up again (the load's log says how many were); one that shares less is."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

from indexer.records import OFFICES
from tests.backends import Backend
from tests.test_cli import SUSPECTS
from tests.test_watching import Env, _alerts, _new_list
from tests.test_watching import env_fixture as env_fixture  # the fixture, under its own name

ID_ONE, ID_TWO, ID_THREE, OTHER = "A123456(3)", "B234567(8)", "C345678(9)", "Z987654(1)"


def _file(folder: Path, rows: list[dict[str, str]]) -> Path:
    path = folder / "cn-fj-reload.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, ["office", "record_id", "entity_type", "name", "id_number", "address"])
        w.writeheader()
        w.writerows(rows)
    return path


def _load(env: Env, path: Path) -> str:
    """`suspects load` through the real CLI; its log, which says how the entries were screened."""
    backend = Backend("elasticsearch" if env.settings.es_url else "sqlite")
    environ = backend.env(env.settings) | {"SUSPECTS_LOG_LEVEL": "INFO"}
    done = subprocess.run([SUSPECTS, "load", str(path)], capture_output=True, text=True, env=environ, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_a_reload_changing_paired_records_alerts_as_match_says(env: Env, tmp_path: Path) -> None:
    def row(rid: str, name: str, id_number: str = "", address: str = "福州", kind: str = "person") -> dict[str, str]:
        return {"office": "CN-FJ", "record_id": rid, "entity_type": kind, "name": name,
                "id_number": id_number, "address": address}  # fmt: skip

    first = [row("R1", "陈国伟"), row("R2", "林建文"), row("R3", "黄志强"), row("R4", "吴家俊"), row("R5", "郑秀文")]
    wanted = [
        {"name": "陈国伟", "id_number": ID_ONE},
        {"name": "林建文", "id_number": ID_TWO},
        {"name": "黄志强", "id_number": ID_THREE},
        {"name": "吴家俊"},
        {"name": "郑秀文"},  # no entity type: looked up as a person and as a company
    ]
    with env.client("CN-HK/analyst") as c:
        lid = _new_list(c)
        r = c.post(f"/watchlists/{lid}/entries", json={"entries": wanted})
        assert r.status_code == 201, r.text
        entries = r.json()["entries"]
        _load(env, _file(tmp_path, first))
        before = {a["record_id"]: a for a in _alerts(c, status="open")}
        assert {"R1", "R2", "R3", "R4", "R5"} <= set(before), before

        changed = [
            row("R1", "陈国伟", address="厦门"),  # the same keys, the same verdict
            row("R2", "林建文", OTHER),  # another ID number than the entry's: no verdict any more
            row("R3", "黄志强", ID_THREE),  # the entry's ID number: more shared weight, still a match
            row("R4", "吴嘉俊"),  # another character: less shared weight, the entry looked up again
            row("R5", "郑秀文", kind="company"),  # another entity type: it leaves the person candidates
        ]
        log = _load(env, _file(tmp_path, changed))
        assert "(2 in full, 3 by short cut" in log, log

        alerts = {a["record_id"]: a for a in _alerts(c)}
        assert alerts["R1"]["alert_id"] == before["R1"]["alert_id"] and alerts["R1"]["status"] == "open"
        assert alerts["R2"]["status"] == "closed" and "no longer matches" in alerts["R2"]["closed_because"]
        assert alerts["R3"]["alert_id"] == before["R3"]["alert_id"] and alerts["R3"]["status"] == "open"

        got = {(a["entry_id"], a["record_id"], a["verdict"]) for a in _alerts(c, status="open")}
        expected = set()
        partners = [o for o in OFFICES if o != "CN-HK"]
        for e in entries:
            q = {k: e[k] for k in ("name", "entity_type", "id_number", "birth_date", "gender")}
            res = c.post("/match", json={"queries": [q], "offices": partners, "limit": 100}).json()["results"][0]
            expected |= {(e["entry_id"], m["record_id"], m["verdict"]) for m in res["matches"] + res["possible"]}
    assert got == expected
    assert ("R2" not in {rid for _, rid, _ in got}) and {"R1", "R3"} <= {rid for _, rid, _ in got}
