"""The command line as a user runs it: the installed `suspects` entry point in a subprocess."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click
import pytest

import api.cli.watch  # noqa: F401  (registers `watch` on cli)
from api.cli import check, keys, records, serve  # noqa: F401  (registers every command on cli)
from api.cli.base import cli
from search.settings import Settings
from tests.backends import Backend

SUSPECTS = str(Path(sys.executable).parent / "suspects")


def run(
    *args: str, store: Path | Settings, input_text: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`suspects ARGS` on a SQLite file (a path) or on the store ``Settings`` name, either backend."""
    settings = store if isinstance(store, Settings) else Settings(store=store)
    env = Backend("elasticsearch" if settings.es_url else "sqlite").env(settings)
    return subprocess.run([SUSPECTS, *args], capture_output=True, text=True, env=env, input=input_text, timeout=timeout)


@pytest.fixture()
def store_copy(backend: Backend, loaded: Settings, sample_files: dict[str, Path], tmp_path: Path) -> Settings:
    """A writable copy of the sample store, on each backend."""
    return backend.copy(loaded, sample_files, tmp_path)


def every_command(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every command of the real CLI, sub-commands of groups included (``keys create`` …)."""
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from every_command(command, (*prefix, name))


def test_every_command_has_help(tmp_path: Path) -> None:
    commands = dict(every_command(cli))
    # The list comes from the CLI itself; these are named so that losing one fails here too.
    assert {("keys",), ("keys", "create"), ("audit",), ("check",), ("load",), ("demo",)} <= set(commands)
    missing = [" ".join(path) for path, command in commands.items() if not (command.help or "").strip()]
    assert missing == [], f"commands without help: {missing}"
    top = run("--help", store=tmp_path / "s.db").stdout
    # Forty-odd interpreter start-ups, four at a time: one after another they took 32 s of the suite.
    with ThreadPoolExecutor(4) as pool:
        helps = dict(
            zip(commands, pool.map(lambda path: run(*path, "--help", store=tmp_path / "s.db"), commands), strict=True)
        )
    for path, command in commands.items():
        if len(path) == 1:
            assert path[0] in top
        r = helps[path]
        assert r.returncode == 0 and (command.help or "").split(".")[0][:40] in " ".join(r.stdout.split()), path


def test_load_stats_search_withdraw(backend: Backend, tmp_path: Path, sample_files: dict[str, Path]) -> None:
    store = backend.settings(tmp_path)
    r = run("load", str(sample_files["CN-GD"]), str(sample_files["CN-HK"]), "--json", store=store)
    assert r.returncode == 0, r.stderr
    reports = json.loads(r.stdout)
    assert all(rep["read"] == rep["stored"] + rep["rejected"] for rep in reports)
    again = json.loads(run("load", str(sample_files["CN-GD"]), "--json", store=store).stdout)
    assert again[0]["unchanged"] == again[0]["read"] and again[0]["inserted"] == 0
    stats = run("stats", store=store).stdout
    assert "CN-GD" in stats and "total" in stats
    hit = run("search", "CHAN Tai Man", store=store)
    assert "seen by 2 office(s)" in hit.stdout and "Cantonese" in hit.stdout
    body = json.loads(run("search", "陳大文", "--json", store=store).stdout)
    gd = next(m for m in body["matches"] if m["office"] == "CN-GD")
    assert run("withdraw", "CN-GD", gd["record_id"], store=store).returncode == 0
    after = json.loads(run("search", "陳大文", "--json", store=store).stdout)
    assert "CN-GD" not in after["offices"]


@pytest.mark.parametrize(
    "args",
    [
        ("load", "/nonexistent/file.csv"),
        ("search", "x", "--type", "robot"),
        ("search", "陈大文", "--dob", "not-a-date"),
        ("withdraw", "CN-GD", "no-such-record"),
        ("load", "--profile", "nope", "x.csv"),
        ("check", "/nonexistent.csv"),
        ("nosuchcommand",),
        ("reindex", "x.csv"),
    ],
)
def test_bad_input_exit_2_one_line(args: tuple[str, ...], tmp_path: Path) -> None:
    r = run(*args, store=tmp_path / "s.db")
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) >= 1 and "Traceback" not in r.stderr
    assert any(x.startswith("error:") or "Error:" in x for x in lines)


def test_load_reports_rejections_file(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("record_id,name,birth_date\n1,陈大文,1971-02-11\n2,,1971-02-11\n3,李四,tomorrow\n", encoding="utf-8")
    rej = tmp_path / "rejected.csv"
    r = run("load", str(src), "--office", "CN-GD", "--rejections", str(rej), store=tmp_path / "s.db")
    assert r.returncode == 0 and "rejected 2" in r.stdout
    with rej.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert [(row["line"], row["field"]) for row in rows] == [("3", "name"), ("4", "birth_date")]


def test_check_watchlist_jsonl_and_csv(store_copy: Settings, tmp_path: Path) -> None:
    watch = tmp_path / "watch.csv"
    watch.write_text(
        "query_id,name,entity_type,birth_date\n"
        "w1,陳大文,person,1971-02-11\n"
        "w2,Sing Fai Trading Company Limited,company,\n"
        "w3,Nobody Atall,person,\n"
        "w4,,person,\n"
        'w5,=HYPERLINK("x"),person,\n'
        "w6,陈大文,robot,\n",
        encoding="utf-8",
    )
    r = run("check", str(watch), store=store_copy)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["query_id"] for x in lines] == ["w1", "w2", "w3", "w4", "w5", "w6"]
    assert lines[0]["seen"] and set(lines[0]["offices"]) == {"CN-GD", "CN-HK", "CN-MO"}
    assert lines[1]["seen"] and not lines[2]["seen"]
    assert "line 5" in lines[3]["error"] and "line 7" in lines[5]["error"]
    out = tmp_path / "out.csv"
    assert run("check", str(watch), "--out", str(out), store=store_copy).returncode == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["query_id"] for r in rows} == {"w1", "w2", "w3", "w4", "w5", "w6"}
    assert [r["office"] for r in rows if r["query_id"] == "w1"] and all(
        r["seen"] == "true" for r in rows if r["query_id"] == "w1"
    )
    assert next(r for r in rows if r["query_id"] == "w5")["query_name"].startswith("'=")


def test_eval_command_prints_the_table(tmp_path: Path) -> None:
    r = run("eval", "--per-category", "10", store=tmp_path / "s.db")
    assert r.returncode == 0 and "F1" in r.stdout and "hk_romanized" in r.stdout


def test_keys_and_audit_commands(backend: Backend, tmp_path: Path) -> None:
    store = backend.settings(tmp_path)
    made = run("keys", "create", "--office", "CN-GD", "--role", "investigator", "--label", "desk 3", store=store)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("sus_") and "shown only now" in made.stderr
    key_id = token.split("_")[1]
    listed = json.loads(run("keys", "list", "--json", store=store).stdout)
    assert [k["key_id"] for k in listed] == [key_id] and "token" not in listed[0]
    assert run("keys", "revoke", key_id, store=store).returncode == 0
    again = run("keys", "revoke", key_id, store=store)
    assert again.returncode == 2 and again.stderr.startswith("error:")
    bad_role = run("keys", "create", "--office", "CN-GD", "--role", "root", "--label", "x", store=store)
    assert bad_role.returncode == 2 and "Traceback" not in bad_role.stderr
    trail = run("audit", "--csv", store=store)
    rows = list(csv.DictReader(trail.stdout.splitlines()))
    assert [r["action"] for r in rows] == ["key.revoke", "key.create"]
    assert key_id in run("audit", "--q", key_id, store=store).stdout


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_check_resume_and_workers_give_the_same_output(store_copy: Settings, tmp_path: Path, fmt: str) -> None:
    from indexer.synth.offices import sample_records

    names = [r.fields["name"] for r in sample_records()[:450] if r.fields["entity_type"] == "person"]
    watch = tmp_path / "w.csv"
    with watch.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["query_id", "name"])
        w.writerows([[f"q{i}", n] for i, n in enumerate(names)] + [["bad", ""]])
    full = tmp_path / f"full.{fmt}"
    assert run("check", str(watch), "--out", str(full), "--workers", "1", store=store_copy).returncode == 0
    two = tmp_path / f"two.{fmt}"
    assert run("check", str(watch), "--out", str(two), "--workers", "2", store=store_copy).returncode == 0
    assert two.read_bytes() == full.read_bytes()
    # An interrupted run: the file ends in the middle of a line, part way through.
    cut = tmp_path / f"cut.{fmt}"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 5])
    resumed = run("check", str(watch), "--out", str(cut), "--resume", store=store_copy)
    assert resumed.returncode == 0 and "resumed after line" in resumed.stderr
    assert cut.read_bytes() == data
    # A run stopped mid-write can also end inside a character (a continuation byte).
    mid = next(i for i in range(len(data) // 2, len(data)) if data[i] & 0xC0 == 0x80)
    cut.write_bytes(data[:mid])
    resumed = run("check", str(watch), "--out", str(cut), "--resume", store=store_copy)
    assert resumed.returncode == 0 and "resumed after line" in resumed.stderr
    assert cut.read_bytes() == data


def readme_synopsis() -> dict[tuple[str, ...], str]:
    """The README's command synopsis: command path → its line."""
    text = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    block = text.split("## Command line", 1)[1].split("```", 2)[1]
    out: dict[tuple[str, ...], str] = {}
    for line in block.splitlines():
        words = line.split()
        if not words or words[0] != "suspects":
            continue
        path = tuple(w for w in words[1:3] if w.islower() and w.isalpha())
        path = path if path and path[0] in ("keys", "watch") else path[:1]
        out[path] = line
    return out


def test_readme_synopsis_is_the_real_cli() -> None:
    """Every command in the README exists with exactly the options it shows, and every command
    and option of the real CLI is in the README."""
    documented = readme_synopsis()
    commands = {path: c for path, c in every_command(cli) if not isinstance(c, click.Group)}
    assert set(documented) == set(commands), set(documented) ^ set(commands)
    for path, command in commands.items():
        real = {o for p in command.params if isinstance(p, click.Option) for o in p.opts if o.startswith("--")}
        shown = {
            w.strip("[]").split("=")[0].rstrip(".") for w in documented[path].split() if w.strip("[").startswith("--")
        }
        assert shown == real, (path, "README shows", shown - real, "missing", real - shown)
