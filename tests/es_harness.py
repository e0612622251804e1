"""A real Elasticsearch for the tests: Elastic's official test distribution from Maven Central,
run on loopback as one node or an N-node cluster. No imitation: this is the server itself.

- **Fetch and cache.** ``org.elasticsearch.distribution.integ-test-zip:elasticsearch:<VERSION>`` (the
  server and its core modules, no bundled JDK) is copied by Maven's dependency plugin into
  ``.cache/elasticsearch/`` (git-ignored) and unpacked once.
- **Run.** Elasticsearch refuses to run as root (CI runs as root), so there it runs as the system
  user ``suspects-es``, created on first use. Each node gets its own config, data and log folders
  in a temporary directory, free loopback ports, a small heap, and its own process group.
- **Stop and clean up** on exit, on a failed test, on SIGTERM; a run killed with SIGKILL leaves pid
  files behind, and the next start kills those nodes first.

Command line (``make es`` uses the first)::

    python -m tests.es_harness serve [--nodes N]   # start, print the URL, run until Ctrl-C
    python -m tests.es_harness run -- CMD ...      # start one node, run CMD with SUSPECTS_ES_URL set
    python -m tests.es_harness check               # exit 0 if this machine can run it, else say why
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# The version docker-compose.yml, the Dockerfile's notes and the README name; the Python client's
# major (8) must match the server's.
VERSION = "8.17.4"
ARTIFACT = f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{VERSION}:zip"
ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "elasticsearch"
RUNS = CACHE / "running"  # one pid file per started node, for cleaning up after a SIGKILLed run
USER = "suspects-es"
HEAP = "256m"  # per node for the tests: a few thousand records; three nodes fit in under 1 GB
START_TIMEOUT = 180.0  # seconds for a node (or a cluster) to answer with at least yellow health


class HarnessError(RuntimeError):
    """Elasticsearch could not be fetched or started; the message says why, with its log tail."""


def java_home() -> Path:
    """A JDK this server runs on: 17 to 23 (8.17 needs 17+, and JDK 24 removed the security
    manager it installs). ``ES_JAVA_HOME`` / ``JAVA_HOME`` first, then the machine's JDKs."""
    candidates = [os.environ.get("ES_JAVA_HOME"), os.environ.get("JAVA_HOME")]
    candidates += sorted(str(p) for p in Path("/usr/lib/jvm").glob("*") if (p / "bin" / "java").exists())
    for home in candidates:
        if not home or not (Path(home) / "bin" / "java").exists():
            continue
        out = subprocess.run([f"{home}/bin/java", "-version"], capture_output=True, text=True, timeout=60).stderr
        version = out.split('"')[1] if '"' in out else ""
        major = int(version.split(".")[0]) if version[:2].isdigit() else 0
        if 17 <= major <= 23:
            return Path(home)
    raise HarnessError("no JDK 17-23 found (set ES_JAVA_HOME); Elasticsearch 8.17 needs one")


def available() -> str | None:
    """None when this machine can run the harness, else the reason it cannot."""
    if shutil.which("mvn") is None and not (CACHE / f"elasticsearch-{VERSION}").exists():
        return "Maven (mvn) is not installed and no Elasticsearch distribution is cached"
    try:
        java_home()
    except HarnessError as exc:
        return str(exc)
    return None


def distribution() -> Path:
    """The unpacked server, fetched from Maven Central on first use."""
    home = CACHE / f"elasticsearch-{VERSION}"
    if (home / "bin" / "elasticsearch").exists():
        return home
    CACHE.mkdir(parents=True, exist_ok=True)
    zip_path = CACHE / f"elasticsearch-{VERSION}.zip"
    if not zip_path.exists():
        cmd = [
            "mvn", "-q", "-B", "org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy",
            f"-Dartifact={ARTIFACT}", f"-DoutputDirectory={CACHE}",
        ]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        if done.returncode != 0 or not zip_path.exists():
            raise HarnessError(f"could not fetch {ARTIFACT}: {(done.stdout + done.stderr).strip()[-2000:]}")
    staging = Path(tempfile.mkdtemp(dir=CACHE))
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            zf.extract(info, staging)
            mode = info.external_attr >> 16  # zipfile drops Unix modes: the scripts must stay executable
            if mode:
                os.chmod(staging / info.filename, mode)
    (staging / f"elasticsearch-{VERSION}").rename(home)
    staging.rmdir()
    return home


def _run_as() -> tuple[int, int] | None:
    """(uid, gid) of the unprivileged user to run the server as, or None if we are not root."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        entry = pwd.getpwnam(USER)
    return entry.pw_uid, entry.pw_gid


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http_json(url: str, method: str = "GET", timeout: float = 5.0) -> dict[str, object]:
    req = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        data: dict[str, object] = json.loads(resp.read() or b"{}")
        return data


@dataclass
class Node:
    """One running server process."""

    name: str
    http_port: int
    transport_port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def pid_file(self) -> Path:
        return RUNS / f"{self.name}-{self.http_port}.pid"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        out = []
        for log in [*sorted((self.folder / "logs").glob("*.log")), self.folder / "stdout.log"]:
            if log.exists():
                out.extend(log.read_text("utf-8", "replace").splitlines()[-lines:])
        return "\n".join(out[-lines:])

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the node's whole process group (the launcher and the server JVM)."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
        if sig == signal.SIGKILL and self.process is not None:
            self.process.wait(60)


@dataclass
class Cluster:
    """N nodes on loopback forming one cluster (``discovery.type=single-node`` when N is 1)."""

    nodes: list[Node] = field(default_factory=list)
    folder: Path | None = None
    cluster_name: str = ""
    heap: str = HEAP

    @property
    def url(self) -> str:
        return self.nodes[0].url

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    def start_node(self, node: Node) -> None:
        """Start (or restart, after a kill) one node with its own folders and ports."""
        home = distribution()
        owner = _run_as()
        conf = node.folder / "config"
        if not conf.exists():
            shutil.copytree(home / "config", conf)
            # The JVM options name gc.log, hs_err files and heap dumps relative to the server's
            # working directory (the distribution, read-only here): point them into the node's own.
            options = conf / "jvm.options"
            text = options.read_text("utf-8").replace("file=logs/", f"file={node.folder}/logs/")
            text = text.replace("ErrorFile=logs/", f"ErrorFile={node.folder}/logs/")
            options.write_text(text.replace("HeapDumpPath=data", f"HeapDumpPath={node.folder}/data"), "utf-8")
            for sub in ("data", "logs", "tmp"):
                (node.folder / sub).mkdir(parents=True, exist_ok=True)
            if owner is not None:
                for path in [node.folder, *node.folder.rglob("*")]:
                    os.chown(path, *owner)
        settings = {
            "cluster.name": self.cluster_name,
            "node.name": node.name,
            "path.data": str(node.folder / "data"),
            "path.logs": str(node.folder / "logs"),
            "network.host": "127.0.0.1",  # loopback only: development mode, no bootstrap checks
            "http.port": str(node.http_port),
            "transport.port": str(node.transport_port),
            "xpack.security.enabled": "false",  # no TLS or passwords on loopback tests
            # A nearly full disk must not turn the test indexes read-only.
            "cluster.routing.allocation.disk.threshold_enabled": "false",
        }
        if len(self.nodes) == 1:
            settings["discovery.type"] = "single-node"
        else:
            settings["discovery.seed_hosts"] = ",".join(f"127.0.0.1:{n.transport_port}" for n in self.nodes)
            settings["cluster.initial_master_nodes"] = ",".join(n.name for n in self.nodes)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "ES_JAVA_HOME": str(java_home()),
            "ES_PATH_CONF": str(conf),
            "ES_JAVA_OPTS": f"-Xms{self.heap} -Xmx{self.heap}",
            "ES_TMPDIR": str(node.folder / "tmp"),
            "LANG": "C.UTF-8",
        }
        cmd = [str(home / "bin" / "elasticsearch"), *(f"-E{k}={v}" for k, v in settings.items())]
        if owner is not None:
            cmd = ["setpriv", f"--reuid={owner[0]}", f"--regid={owner[1]}", "--clear-groups", "--", *cmd]
        with (node.folder / "stdout.log").open("ab") as out:  # the child keeps its own descriptor
            node.process = subprocess.Popen(
                cmd, cwd=node.folder, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        RUNS.mkdir(parents=True, exist_ok=True)
        node.pid_file.write_text(f"{node.process.pid} {os.getpid()}")  # the node, and who started it

    def wait_healthy(self, status: str = "yellow", nodes: int | None = None, timeout: float = START_TIMEOUT) -> None:
        """Wait until the cluster reports ``status`` (or better) with ``nodes`` nodes; raise with the
        logs of a node that died or of the first node when the deadline passes."""
        want = nodes or len(self.nodes)
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if nodes is None:  # every node is meant to be up: one that exited will not come back
                for node in self.nodes:
                    if node.process is not None and node.process.poll() is not None:
                        raise HarnessError(f"{node.name} exited ({node.process.returncode}):\n{node.log_tail()}")
            for node in self.nodes:
                if not node.alive():
                    continue
                query = f"wait_for_status={status}&wait_for_nodes=>={want}&timeout=2s"
                try:
                    health = http_json(f"{node.url}/_cluster/health?{query}", timeout=10)
                except (OSError, urllib.error.URLError) as exc:
                    last = str(exc)
                    continue
                if not health.get("timed_out") and int(str(health.get("number_of_nodes", 0))) >= want:
                    return
                last = json.dumps(health)
                break
            time.sleep(0.5)
        raise HarnessError(
            f"cluster not {status} with {want} nodes in {timeout:g} s ({last}):\n{self.nodes[0].log_tail()}"
        )

    def stop(self) -> None:
        """SIGTERM every node, SIGKILL what is left after 30 s, remove the folders."""
        for node in self.nodes:
            node.kill(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for node in self.nodes:
            if node.process is not None:
                try:
                    node.process.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    node.kill(signal.SIGKILL)
            node.pid_file.unlink(missing_ok=True)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_leftovers() -> None:
    """Kill nodes that a SIGKILLed test run left behind: those whose starting process is gone.
    A node another live process started (the session's node while a test starts a cluster of
    its own) is left alone."""
    if not RUNS.exists():
        return
    for pid_file in RUNS.glob("*.pid"):
        try:
            node_pid, owner_pid = (int(x) for x in pid_file.read_text().split())
        except ValueError:
            pid_file.unlink(missing_ok=True)
            continue
        if _alive(owner_pid):
            continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(node_pid, signal.SIGKILL)
        pid_file.unlink(missing_ok=True)


def start(nodes: int = 1, heap: str = HEAP, folder: Path | None = None) -> Cluster:
    """Start a cluster of ``nodes`` nodes (``heap`` each, data under ``folder`` or a temporary
    directory) and wait for it to be usable."""
    reap_leftovers()
    folder = Path(tempfile.mkdtemp(prefix="suspects-es-", dir=folder))
    os.chmod(folder, 0o755)
    cluster = Cluster(folder=folder, cluster_name=f"suspects-test-{os.getpid()}", heap=heap)
    cluster.nodes = [Node(f"node-{i}", free_port(), free_port(), folder / f"node-{i}") for i in range(nodes)]
    try:
        for node in cluster.nodes:
            cluster.start_node(node)
        cluster.wait_healthy("green" if nodes == 1 else "yellow")
    except BaseException:
        cluster.stop()
        raise
    return cluster


@contextlib.contextmanager
def running(nodes: int = 1, heap: str = HEAP, folder: Path | None = None) -> Iterator[Cluster]:
    """A cluster for the length of a ``with`` block, stopped however the block ends (SIGTERM too)."""
    cluster = start(nodes, heap, folder)
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)  # unwinds through the finally below

    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        signal.signal(signal.SIGTERM, on_term)
    try:
        yield cluster
    finally:
        cluster.stop()
        if in_main:
            signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.es_harness", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="start a cluster, print its URL, run until Ctrl-C")
    serve.add_argument("--nodes", type=int, default=1)
    run = sub.add_parser("run", help="start one node, run a command with SUSPECTS_ES_URL set, stop")
    run.add_argument("cmd", nargs=argparse.REMAINDER)
    sub.add_parser("check", help="exit 0 if Java and Maven (or a cached distribution) are here")
    args = parser.parse_args(argv)
    reason = available()
    if reason is not None:
        print(f"cannot run Elasticsearch here: {reason}", file=sys.stderr)
        return 1 if args.command == "check" else 2
    if args.command == "check":
        return 0
    try:
        with running(args.nodes if args.command == "serve" else 1) as cluster:
            if args.command == "serve":
                print(f"Elasticsearch {VERSION}: {' '.join(cluster.urls)}", flush=True)
                print(f"export SUSPECTS_ES_URL={cluster.url}", flush=True)
                with contextlib.suppress(KeyboardInterrupt):
                    signal.pause()
                return 0
            cmd = [c for c in args.cmd if c != "--"]
            env = {**os.environ, "SUSPECTS_ES_URL": cluster.url}
            return subprocess.run(cmd, env=env).returncode
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
