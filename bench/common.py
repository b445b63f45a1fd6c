"""Start the real server on a throwaway embedded database, for measurements."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).parents[1]
PASSWORD = "lumen-quarry-velvet-7-oboe"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    """A real SMTP server on loopback that keeps what it receives (aiosmtpd)."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[tuple[list[str], str]] = []
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        import email

        parsed = email.message_from_bytes(envelope.content)
        body = parsed.get_payload(decode=True)
        self.messages.append((list(envelope.rcpt_tos), body.decode() if isinstance(body, bytes) else str(body)))
        return "250 OK"

    def token_for(self, address: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for to, body in reversed(self.messages):
                if address in to and "token=" in body:
                    return body.split("token=", 1)[1].split()[0]
            time.sleep(0.05)
        raise TimeoutError(f"no email with a link to {address}")

    def stop(self) -> None:
        self._controller.stop()


def run_wrk(script: str, url: str, *, seconds: float, connections: int, timeout: float, latency: bool = False) -> str:
    """wrk -t1 with a Lua `script` (written to a temporary file for the run) against
    `url`; its report."""
    path = Path(tempfile.mkstemp(suffix=".lua")[1])
    try:
        path.write_text(script)
        command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", f"--timeout={timeout:g}s"]
        command += ["--latency"] if latency else []
        return subprocess.run([*command, "-s", str(path), url], capture_output=True, text=True, check=True).stdout
    finally:
        path.unlink()


def postmaster_pid(pgdata: Path) -> int | None:
    """The pid in `pgdata`/postmaster.pid (first line), or None when there is none."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a zombie (our own child, not yet reaped) is gone too
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    return True


def stop_postmaster(pgdata: Path, timeout: float = 30) -> None:
    """Stop the PostgreSQL whose data directory is `pgdata`, whatever still holds a handle
    on it: fast shutdown (SIGINT), then immediate (SIGQUIT), then SIGKILL.

    pgserver stops its server when the last process that opened it exits through
    `atexit`, and keeps the list of those processes in a file. `python -m api serve`
    dies by the SIGTERM that uvicorn re-raises after its graceful shutdown, so its
    `atexit` never runs, its pid stays in the list, and pgserver's own cleanup (called
    by any later process) sees another user and leaves the server running: four of them
    were still up after four benchmark runs. So the benchmarks stop the postmaster
    themselves, by the pid it wrote."""
    pid = postmaster_pid(pgdata)
    if pid is None:
        return
    for sig, share in ((signal.SIGINT, 0.6), (signal.SIGQUIT, 0.3), (signal.SIGKILL, 0.1)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        until = time.monotonic() + share * timeout
        while time.monotonic() < until and _alive(pid):
            time.sleep(0.05)
        if not _alive(pid):
            return
    raise RuntimeError(f"PostgreSQL {pid} ({pgdata}) did not stop")


def stop_embedded(data_dir: Path) -> None:
    """Stop the embedded PostgreSQL a benchmark started, and delete its data: a benchmark
    leaves nothing running behind it."""
    try:
        stop_postmaster(data_dir / "pg")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def database_uri(data_dir: Path | str) -> str:
    """A libpq URI for the embedded server of `data_dir` (started by the server process),
    read from its postmaster.pid: no pgserver handle in this process."""
    lines = (Path(data_dir) / "pg" / "postmaster.pid").read_text().splitlines()
    return f"postgresql://postgres:@/postgres?host={lines[4].strip()}"


@contextlib.contextmanager
def terminated_by_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP raise SystemExit here (as Ctrl-C raises KeyboardInterrupt), so
    that the `finally` blocks that stop servers run when a benchmark is killed."""

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def runtime_dir() -> str:
    """Where pgserver keeps its inter-process lock: one place for every benchmark, outside
    the data directories they delete (else pgserver, falling back to the data directory's
    parent, re-creates its lock there at exit)."""
    path = os.environ.get("XDG_RUNTIME_DIR") or str(Path(tempfile.gettempdir()) / f"runtime-{os.getuid()}")
    Path(path).mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def embedded_database(prefix: str = "account-api-bench-") -> Iterator[str]:
    """A throwaway embedded PostgreSQL for an in-process benchmark, migrated; its URL.
    Stopped and deleted afterwards, also on Ctrl-C, SIGTERM or an exception."""
    from db.embedded import start_embedded
    from db.migrate import upgrade

    data = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["XDG_RUNTIME_DIR"] = runtime_dir()
    with terminated_by_signals():
        try:
            url = start_embedded(data / "pg")
            upgrade(url)
            yield url
        finally:
            stop_embedded(data)


def _stop_process(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def running_server(
    extra_env: dict[str, str] | None = None, *, module: str = "api", log: Path | None = None
) -> Iterator[tuple[str, dict[str, str]]]:
    """`python -m api serve` (or `module`, e.g. bench.floor, which serves the same app with
    more routes) on a throwaway embedded database; stopped and removed afterwards, also
    on Ctrl-C, SIGTERM or an exception (the server runs in its own session, so a Ctrl-C
    at the terminal reaches the benchmark, which then stops the server and the database
    in order). With `log`, the server's output (JSON log lines) goes to that file."""
    data = tempfile.mkdtemp(prefix="account-api-bench-")
    env = {
        **os.environ,
        "DATA_DIR": data,
        "ENV": "development",
        "LOG_LEVEL": "WARNING",
        "XDG_RUNTIME_DIR": runtime_dir(),
        **(extra_env or {}),
    }
    port = free_port()
    server: subprocess.Popen[bytes] | None = None
    with terminated_by_signals():
        try:
            subprocess.run([sys.executable, "-m", "api", "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
            command = ["-m", "api", "serve"] if module == "api" else ["-m", module]
            output = log.open("ab") if log is not None else subprocess.DEVNULL
            server = subprocess.Popen(
                [sys.executable, *command, "--port", str(port)],
                env=env,
                cwd=ROOT,
                stdout=output,
                stderr=output,
                start_new_session=True,
            )
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                if server.poll() is not None:
                    raise RuntimeError(f"the server exited with {server.returncode} before it was ready")
                time.sleep(0.1)
            else:
                raise RuntimeError("the server did not become ready in 30 s")
            yield base, {**env, "BENCH_SERVER_PID": str(server.pid)}
        finally:
            try:
                if server is not None:
                    _stop_process(server)
            finally:
                stop_embedded(Path(data))


def create_owner(base: str, env: dict[str, str], slug: str = "bench") -> str:
    """A tenant whose owner accepted the invitation; returns the session token."""
    link = subprocess.run(
        [
            sys.executable,
            "-m",
            "api",
            "create-tenant",
            "--slug",
            slug,
            "--name",
            "Bench",
            "--owner-username",
            "owner",
            "--owner-email",
            f"owner@{slug}.example",
        ],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    token = link.split("token=", 1)[1]
    accept = "mutation($t: String!, $p: String!) { acceptInvitation(input: {token: $t, password: $p}) { status } }"
    response = httpx.post(f"{base}/graphql", json={"query": accept, "variables": {"t": token, "p": PASSWORD}})
    return response.cookies["session"]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _active_statements(data_dir: str) -> int:
    """Statements running in the benchmark's PostgreSQL, besides this one."""
    query = (
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() "
        "AND backend_type = 'client backend'"
    )
    from pgserver._commands import POSTGRES_BIN_PATH  # pgserver's own psql

    out = subprocess.run(
        [str(POSTGRES_BIN_PATH / "psql"), database_uri(data_dir), "-Atc", query], capture_output=True, text=True
    )
    return int(out.stdout.strip() or 0)


def settle(base: str, env: dict[str, str] | None = None, timeout: float = 600) -> None:
    """Wait until what a measurement left behind is done: wrk stops at its deadline, but
    the requests it gave up on still run in the server (a slow one for seconds) and would
    weigh on the next measurement. Settled: the server process used under 5 % of a core
    over 0.2 s, twice in a row, no statement runs in PostgreSQL, and /healthz answers
    within 50 ms. With no `env` (from running_server), only the last."""
    pid = int(env["BENCH_SERVER_PID"]) if env and "BENCH_SERVER_PID" in env else None
    deadline, quiet = time.monotonic() + timeout, 0
    with httpx.Client(base_url=base, timeout=timeout) as client:
        while time.monotonic() < deadline:
            idle = True
            if pid is not None:
                before = _cpu_seconds(pid)
                time.sleep(0.2)
                idle = _cpu_seconds(pid) - before < 0.01
            if idle and env is not None and "DATA_DIR" in env:
                idle = _active_statements(env["DATA_DIR"]) == 0
            began = time.perf_counter()
            client.get("/healthz")
            idle = idle and time.perf_counter() - began < 0.05
            quiet = quiet + 1 if idle else 0
            if quiet >= 2:
                return
            if pid is None:
                time.sleep(0.2)


def cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its children, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(") ", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(entry.name)] = int(fields[1])
        used[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    tree, grown = {pid}, True
    while grown:
        grown = False
        for child, parent in parents.items():
            if parent in tree and child not in tree:
                tree.add(child)
                grown = True
    return sum(used.get(p, 0.0) for p in tree)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
