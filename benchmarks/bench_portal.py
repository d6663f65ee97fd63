"""Portal load benchmark: a real Uvicorn server on loopback over PostgreSQL, driven from a separate process.

Load tool: ``wrk`` (Debian's package; ``make bench`` installs it when missing and run as root), driven by a
generated Lua script that cycles through the requests (paths and bearer tokens) and reports p50/p95/p99. Without
wrk: a Python asyncio HTTP/1.1 keep-alive load generator (raw sockets, no client library) in its own process, and
the output says so. The Python generator costs about as much CPU per request as the server's static-file path, on
the same two cores: its ceiling is printed beside wrk's (static file, both tools, same run), which is why reads are
measured with wrk. Baseline, measured in the same run against the same server: a static file (no sign-in, no
database), the floor of the web stack. Each read phase also prints the server's CPU time per request (its worker
processes' CPU time from ``/proc`` over the requests served): on a shared machine requests per second and latencies
follow the other work, CPU time per request much less, so that is the figure to compare versions by.

Reading wrk's percentiles: wrk corrects its latency histogram for coordinated omission before reporting it
(``stats_correct`` in wrk's src/stats.c, called from src/wrk.c: every request slower than the mean interval between a
connection's requests adds the requests a steady client would have sent meanwhile, https://github.com/wg/wrk). One
stall of a second that holds all 16 connections therefore moves the p95 of a ten-second phase to hundreds of
milliseconds: the p95 here is what clients arriving at a steady rate would see, stricter than the plain distribution
of the requests sent. wrk's socket errors are printed by kind; "timeout" means a request unanswered after 2 s (wrk's
default ``--timeout``). The server logs at INFO to a file, and the run ends with the number of worker processes
Uvicorn's supervisor replaced (it kills and replaces a worker that misses its 5 s health check) and the machine's
listen-queue overflows during the run.
Each read phase also prints how long the server's worker threads and the PostgreSQL backends of the benchmark's
database (PostgreSQL runs on this machine) waited for a CPU per second of CPU they used (Linux ``schedstat``): a large
PostgreSQL figure says the queries queued for a processor, not for a lock, a connection or a thread.

Phases: read endpoints (the target), proposal submission, and a storm (concurrent drafts and submissions from
every partner while an unrelated user reads), whose write throughput, write latencies and read latencies are
printed.

Targets (issue 6, issue 16): read endpoints >= 500 requests/s with p95 < 50 ms; proposal submission p95 < 150 ms;
unrelated reads during the storm p95 < 200 ms.

    python benchmarks/bench_portal.py [--duration 10] [--concurrency 16] [--workers 2] [--tool auto|wrk|python]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing as mp
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"
PY_TOOL = "Python asyncio HTTP/1.1 keep-alive load generator (raw sockets) in a separate process"
WRK_TOOL = "wrk (1 thread, HTTP/1.1 keep-alive, Lua request plan)"


# ---- the load generator (runs in its own process) ----------------------------------------------------------------


def _request(method: str, path: str, token: str | None, body: bytes | None) -> bytes:
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: keep-alive"]
    if token:
        head.append(f"Authorization: Bearer {token}")
    if body is not None:
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + (body or b"")


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        if line.lower().startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    return status, await reader.readexactly(length) if length else b""


async def _reads(port: int, plan: list, duration: float, concurrency: int) -> dict:
    lat: list[float] = []
    bad: dict[int, int] = {}
    stop = time.perf_counter() + duration

    async def worker(k: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        i = k
        while time.perf_counter() < stop:
            method, path, token = plan[i % len(plan)]
            i += 1
            t = time.perf_counter()
            writer.write(_request(method, path, token, None))
            status, _ = await _response(reader)
            lat.append(time.perf_counter() - t)
            if status != 200:
                bad[status] = bad.get(status, 0) + 1
        writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    return {"latencies": lat, "seconds": time.perf_counter() - t0, "bad": bad}


async def _submissions(port: int, writers: list[tuple[str, dict]], duration: float, concurrency: int) -> dict:
    """Drafts and submissions: connection k writes as ``writers[k % len(writers)]`` (a PI's token and a body
    naming that PI's organisation)."""
    create: list[float] = []
    submit: list[float] = []
    bad: dict[str, int] = {}
    stop = time.perf_counter() + duration

    async def worker(k: int) -> None:
        token, body = writers[k % len(writers)]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        n = 0
        while time.perf_counter() < stop:
            n += 1
            data = json.dumps({**body, "title": f"load proposal {k}-{n}"}).encode()
            t = time.perf_counter()
            writer.write(_request("POST", "/api/proposals", token, data))
            status, resp = await _response(reader)
            create.append(time.perf_counter() - t)
            if status != 201:
                bad[f"create {status}"] = bad.get(f"create {status}", 0) + 1
                continue
            pid = json.loads(resp)["id"]
            t = time.perf_counter()
            writer.write(_request("POST", f"/api/proposals/{pid}/submit", token, b""))
            status, _ = await _response(reader)
            submit.append(time.perf_counter() - t)
            if status != 200:
                bad[f"submit {status}"] = bad.get(f"submit {status}", 0) + 1
        writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    return {"create": create, "submit": submit, "seconds": time.perf_counter() - t0, "bad": bad}


def _load_process(kind: str, args: tuple, out) -> None:
    fn = {"reads": _reads, "submissions": _submissions}[kind]
    out.put(asyncio.run(fn(*args)))


def start_load(kind: str, *args):
    out = mp.get_context("spawn").Queue()
    p = mp.get_context("spawn").Process(target=_load_process, args=(kind, args, out))
    p.start()
    return p, out


def finish_load(started) -> dict:
    p, out = started
    result = out.get(timeout=600)
    p.join(30)
    return result


def run_load(kind: str, *args) -> dict:
    return finish_load(start_load(kind, *args))


# ---- wrk: a C load generator, driven by a generated Lua script ------------------------------------------------------

_WRK_LUA = """
local plan = {%s}
local i = 0
request = function()
  i = i + 1
  local p = plan[(i %% #plan) + 1]
  local h = {}
  if p[3] ~= "" then h["Authorization"] = "Bearer " .. p[3] end
  return wrk.format(p[1], p[2], h)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %%d %%d %%d %%d %%d %%d %%d %%.1f %%.1f %%.1f %%d\\n", summary.requests, summary.duration,
    e.status, e.connect, e.read, e.write, e.timeout, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max))
end
"""


def _lua_string(text: str) -> str:
    if any(c in text for c in '\\"\n\r'):
        raise ValueError(f"unexpected character in a benchmark request: {text!r}")
    return f'"{text}"'


def start_wrk(port: int, plan: list, duration: float, connections: int, tmp: Path):
    rows = ", ".join(
        "{" + ", ".join(_lua_string(x) for x in (method, path, token or "")) + "}" for method, path, token in plan
    )
    script = tmp / f"wrk_{uuid.uuid4().hex[:8]}.lua"
    script.write_text(_WRK_LUA % rows)
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "-s", str(script)]
    return subprocess.Popen(
        [*cmd, f"http://127.0.0.1:{port}/"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def finish_wrk(proc: subprocess.Popen) -> dict:
    """wrk's figures in the form of :func:`figures` (latencies from wrk's histogram), and its failures."""
    out, _ = proc.communicate(timeout=600)
    found = [ln.split() for ln in out.splitlines() if ln.startswith("WRK ")]
    if proc.returncode != 0 or not found:
        raise RuntimeError(f"wrk failed: {out.strip()}")
    n, us, status, connect, read, write, timeout, p50, p95, p99, top = found[-1][1:]
    errors = {"non-2xx/3xx": status, "connect": connect, "read": read, "write": write, "timeout (> 2 s)": timeout}
    bad = {k: int(v) for k, v in errors.items() if int(v)}
    return {
        "n": int(n),
        "rps": int(n) / (int(us) / 1e6),
        "p50": float(p50) / 1e3,
        "p95": float(p95) / 1e3,
        "p99": float(p99) / 1e3,
        "max": float(top) / 1e3,  # the slowest request answered within the timeout (no correction)
        "bad": bad,
    }


def server_cpu_s(pid: int) -> float | None:
    """CPU time [s] used so far by the server process and its worker processes (Linux ``/proc``; None elsewhere).

    Unlike requests per second, CPU time per request hardly changes with other work on the machine: it is the
    figure to compare between versions of the portal on a shared machine."""
    stats = Path("/proc")
    if not (stats / str(pid) / "stat").exists():
        return None
    total = 0
    for entry in stats.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if entry.name == str(pid) or fields[1] == str(pid):  # fields[1]: the parent's pid
            total += int(fields[11]) + int(fields[12])  # utime, stime [clock ticks]
    return total / os.sysconf("SC_CLK_TCK")


def task_times_ns(pids: list[int]) -> dict[str, tuple[int, int]]:
    """Per thread of the processes ``pids``: CPU time and time spent runnable but waiting for a CPU [ns] (Linux
    ``/proc/<pid>/task/<tid>/schedstat``, its first two fields; empty elsewhere)."""
    out: dict[str, tuple[int, int]] = {}
    for pid in pids:
        tasks = Path(f"/proc/{pid}/task")
        try:
            for task in tasks.iterdir():
                fields = (task / "schedstat").read_text().split()
                out[task.name] = (int(fields[0]), int(fields[1]))
        except OSError:  # the process or thread ended meanwhile
            continue
    return out


def cpu_wait_ratio(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> float | None:
    """Seconds spent waiting for a CPU per second of CPU used, over the threads seen at the end."""
    cpu = wait = 0
    for task, (c1, w1) in after.items():
        c0, w0 = before.get(task, (0, 0))
        cpu, wait = cpu + c1 - c0, wait + w1 - w0
    return wait / cpu if cpu > 0 else None


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux ``/proc``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] == str(pid):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def measure_reads(
    tool: str,
    port: int,
    plan: list,
    duration: float,
    connections: int,
    tmp: Path,
    server: int | None = None,
    backends=None,
) -> dict:
    """Figures of a read phase with the chosen tool (``wrk`` or ``python``), with the server's CPU time per
    request [ms] when ``server`` (its pid) is given, and then how long its worker processes and the PostgreSQL
    backends (``backends()``: their pids) waited for a CPU per second of CPU they used."""
    cpu0 = server_cpu_s(server) if server else None
    workers = (children(server) or [server]) if server else []  # one worker: Uvicorn serves in its own process
    pg = backends() if backends else []
    waits0 = task_times_ns(workers), task_times_ns(pg)
    if tool == "wrk":
        f = finish_wrk(start_wrk(port, plan, duration, connections, tmp))
    else:
        r = run_load("reads", port, plan, duration, connections)
        f = {**figures(r["latencies"], r["seconds"]), "bad": r["bad"]}
    cpu1 = server_cpu_s(server) if server else None
    if cpu0 is not None and cpu1 is not None and f["n"]:
        f["cpu_ms"] = 1e3 * (cpu1 - cpu0) / f["n"]
    if server:
        f["wait_server"] = cpu_wait_ratio(waits0[0], task_times_ns(workers))
        f["wait_pg"] = cpu_wait_ratio(waits0[1], task_times_ns(pg))
    return f


# ---- set-up: a PostgreSQL database, seeded, and the server --------------------------------------------------------


def seed(url: str, tmp: Path, n_proposals: int) -> dict:
    from ilrs.portal import actions
    from ilrs.portal.main import create_app
    from ilrs.portal.rules import OfferLine
    from ilrs.portal.settings import PortalSettings

    app = create_app(PortalSettings(database_url=url, secret_key="b" * 48, upload_dir=tmp / "uploads"))
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with app.state.sessionmaker() as db:
        orgs = [actions.create_organisation(db, None, f"Bench partner {k}", "Bench") for k in range(5)]
        admin = actions.create_user(db, None, "admin@bench.invalid", "admin", "bench password", "admin", orgs[0].id)
        pis = [
            actions.create_user(db, None, f"pi{k}@bench.invalid", f"pi {k}", "bench password", "pi", orgs[k].id)
            for k in range(1, 5)
        ]
        offer = [
            OfferLine("rover_hours", "rover", "h", 1e6),
            OfferLine("energy_kwh", "energy", "kWh", 1e6),
            OfferLine("data_gbit", "data", "Gbit", 1e6),
            OfferLine("arm_hours", "arm", "h", 1e6),
        ]
        call = actions.create_call(
            db,
            actions.actor_of(admin),
            "Bench call",
            "ilrs-basic-2035",
            dt.datetime(2035, 6, 1),
            dt.datetime(2035, 7, 1),
            now + dt.timedelta(days=30),
            offer,
        )
        body = {
            "resources": {"rover_hours": 4, "energy_kwh": 2, "data_gbit": 1},
            "activities": [
                {
                    "id": "r1",
                    "partner": "",
                    "payload": "camera",
                    "duration": "2h",
                    "earliest": "2035-06-02T00:00",
                    "deadline": "2035-06-09T00:00",
                    "resources": ["rover"],
                    "power_w": 100,
                    "data_mbit": 100,
                    "repeat_every": "1d",
                    "repeat_count": 2,
                }
            ],
        }
        pids = []
        for k in range(n_proposals):
            pi = pis[k % len(pis)]
            acts = [{**body["activities"][0], "partner": pi.organisation.name}]
            p = actions.create_proposal(
                db, actions.actor_of(pi), call.id, {**body, "activities": acts, "title": f"seed {k}"}, now
            )
            actions.submit_proposal(db, actions.actor_of(pi), p.id, now)
            pids.append(p.id)
        tokens = {u.email: actions.issue_token(db, u, "api", 24)[0] for u in [admin, *pis]}
        org_names = {u.email: u.organisation.name for u in pis}
    app.state.engine.dispose()
    return {
        "call": call.id,
        "proposals": pids,
        "tokens": tokens,
        "admin": "admin@bench.invalid",
        "pis": [u.email for u in pis],
        "body": body,
        "org_names": org_names,
    }


def start_server(url: str, tmp: Path, workers: int) -> tuple[subprocess.Popen, int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    env = {
        **os.environ,
        "ILRS_DATABASE_URL": url,
        "ILRS_SECRET_KEY": "b" * 48,
        "ILRS_CACHE_DIR": str(tmp),
        "ILRS_PORTAL_UPLOADS": str(tmp / "uploads"),
    }
    # the options `ilrs serve --workers N` gives Uvicorn, logging at INFO (without access lines) to a file, where
    # the supervisor's replacements of workers show ("Child process [..] died")
    code = (
        "import uvicorn; from ilrs.portal.main import uvicorn_options; "
        f"options = {{**uvicorn_options('127.0.0.1', {port}, {workers}), 'log_level': 'info', 'access_log': False}}; "
        "uvicorn.run('ilrs.portal.main:create_app', factory=True, **options)"
    )
    log = open(tmp / "server.log", "w")  # noqa: SIM115 (the server writes to it until it ends)
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /static/portal.css HTTP/1.1\r\nHost: x\r\n\r\n")
                if s.recv(20).startswith(b"HTTP/1.1 200"):
                    return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start")


def worker_replacements(tmp: Path) -> int:
    """Workers Uvicorn's supervisor replaced during the run (a worker that died or missed its health check)."""
    text = (tmp / "server.log").read_text(errors="replace")
    return text.count(" died") + text.count("was not ready in time")


def listen_overflows() -> int | None:
    """The machine's count of connections dropped because a listen queue was full (Linux TcpExt ListenOverflows
    plus ListenDrops; None elsewhere)."""
    path = Path("/proc/net/netstat")
    if not path.exists():
        return None
    rows = [ln.split() for ln in path.read_text().splitlines() if ln.startswith("TcpExt:")]
    counts = dict(zip(rows[0][1:], rows[1][1:], strict=True))
    return int(counts.get("ListenOverflows", 0)) + int(counts.get("ListenDrops", 0))


def figures(lat: list[float], seconds: float) -> dict:
    a = np.asarray(lat) * 1e3
    return {
        "n": a.size,
        "rps": a.size / seconds,
        "p50": float(np.percentile(a, 50)),
        "p95": float(np.percentile(a, 95)),
        "p99": float(np.percentile(a, 99)),
    }


def line(name: str, f: dict) -> str:
    return (
        f"{name:44s} {f['n']:7d} req  {f['rps']:8.0f} req/s  p50 {f['p50']:6.1f} ms  p95 {f['p95']:6.1f} ms  "
        f"p99 {f['p99']:6.1f} ms"
        + (f"  max {f['max']:6.1f} ms" if "max" in f else "")
        + (f"  server CPU {f['cpu_ms']:4.2f} ms/req" if "cpu_ms" in f else "")
        + f"  load {os.getloadavg()[0]:.1f}"
        + "".join(
            f"  {who} waited {f[key]:.1f} s/CPU s"
            for who, key in (("server", "wait_server"), ("PostgreSQL", "wait_pg"))
            if f.get(key) is not None
        )
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per phase")
    ap.add_argument("--concurrency", type=int, default=16, help="connections for the read phase")
    ap.add_argument("--workers", type=int, default=2, help="Uvicorn worker processes")
    ap.add_argument("--proposals", type=int, default=200, help="submitted proposals seeded")
    ap.add_argument(
        "--tool", choices=["auto", "wrk", "python"], default="auto", help="read load generator (auto: wrk if installed)"
    )
    ap.add_argument("--storm-writers", type=int, default=32, help="connections writing during the storm")
    args = ap.parse_args(argv if argv is not None else sys.argv[1:])
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            name = f"ilrs_bench_{uuid.uuid4().hex[:10]}"
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        print(f"bench_portal: PostgreSQL at 127.0.0.1:5432 unreachable ({exc}); skipped")
        return 0
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    proc = None
    try:
        with tempfile.TemporaryDirectory() as tmpdir:
            tmp = Path(tmpdir)
            t = time.perf_counter()
            s = seed(url, tmp, args.proposals)
            print(
                f"seeded {args.proposals} submitted proposals in {time.perf_counter() - t:.1f} s; "
                f"server: uvicorn, {args.workers} workers, PostgreSQL 127.0.0.1:5432"
            )
            tool = args.tool if args.tool != "auto" else ("wrk" if shutil.which("wrk") else "python")
            if tool == "wrk" and not shutil.which("wrk"):
                raise SystemExit("bench_portal: --tool wrk, but wrk is not installed (apt-get install wrk)")
            print(
                f"load tool for reads: {WRK_TOOL if tool == 'wrk' else PY_TOOL}"
                + ("" if tool == "wrk" else " (wrk not installed: `make bench` installs it when run as root)")
                + f"; writes: {PY_TOOL}"
            )
            print(
                f"{os.cpu_count()} cores shared by server, load generator and PostgreSQL; load average before the "
                f"run {os.getloadavg()[0]:.1f} (other work on the machine lowers every figure)"
            )
            overflows0 = listen_overflows()
            proc, port = start_server(url, tmp, args.workers)
            pi = s["pis"][0]
            tok = s["tokens"][pi]
            admin = s["tokens"][s["admin"]]
            own = [p for k, p in enumerate(s["proposals"]) if k % len(s["pis"]) == 0][:20]
            reads = {
                "GET /api/calls/{id}": [("GET", f"/api/calls/{s['call']}", tok)],
                "GET /api/proposals/{id} (own, checked)": [("GET", f"/api/proposals/{p}", tok) for p in own],
                "GET /api/calls/{id}/oversubscription": [("GET", f"/api/calls/{s['call']}/oversubscription", admin)],
            }
            mixed = [x for plan in reads.values() for x in plan[:5]]
            static = [("GET", "/static/portal.css", None)]
            # warm-up at full concurrency on every endpoint: the workers' database pools open their connections
            # and the first-call costs are paid before anything is measured
            measure_reads(tool, port, mixed, 3.0, args.concurrency, tmp)
            print(f"\nread endpoints ({args.concurrency} connections, {args.duration:.0f} s each)")
            fb = measure_reads(tool, port, static, args.duration, args.concurrency, tmp, proc.pid)
            print(line(f"baseline: GET /static/portal.css ({tool})", fb))
            if tool == "wrk":
                # the same static file with the Python generator: the ceiling of that tool on this machine
                fp = measure_reads("python", port, static, args.duration, args.concurrency, tmp)
                print(
                    line("  same with the Python generator", fp) + f"  (wrk measured {fb['rps'] / fp['rps']:.2f}x this)"
                )

            def backends() -> list[int]:
                with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                    rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,)).fetchall()
                return [r[0] for r in rows]

            results = {}
            for label, plan in [*reads.items(), ("mixed reads", mixed)]:
                f = measure_reads(tool, port, plan, args.duration, args.concurrency, tmp, proc.pid, backends)
                results[label] = f
                print(
                    line(label, f)
                    + f"  ({fb['rps'] / f['rps']:.1f}x slower than the baseline"
                    + (f", {f['cpu_ms'] / fb['cpu_ms']:.1f}x its CPU)" if "cpu_ms" in f and "cpu_ms" in fb else ")")
                    + (f"  not 200: {f['bad']}" if f["bad"] else "")
                )
            body = {**s["body"], "call_id": s["call"]}
            writers = [
                (s["tokens"][e], {**body, "activities": [{**body["activities"][0], "partner": s["org_names"][e]}]})
                for e in s["pis"]
            ]
            r = run_load("submissions", port, writers[:1], args.duration, 8)
            fc, fs = figures(r["create"], r["seconds"]), figures(r["submit"], r["seconds"])
            print(
                f"\nproposal submission (8 connections, {args.duration:.0f} s; draft with resources and "
                f"activity requests validated by the planner's parser, then submit)"
            )
            print(line("POST /api/proposals (draft)", fc) + (f"  errors: {r['bad']}" if r["bad"] else ""))
            print(line("POST /api/proposals/{id}/submit", fs))

            # the storm: every PI drafts and submits from many connections at once while an unrelated user reads
            n_read = max(4, args.concurrency // 2)
            unrelated = [("GET", f"/api/calls/{s['call']}", admin)]
            if tool == "wrk":
                reader = start_wrk(port, unrelated, args.duration, n_read, tmp)
            else:
                reader = start_load("reads", port, unrelated, args.duration, n_read)
            r = run_load("submissions", port, writers, args.duration, args.storm_writers)
            if tool == "wrk":
                fr = finish_wrk(reader)
            else:
                rr = finish_load(reader)
                fr = {**figures(rr["latencies"], rr["seconds"]), "bad": rr["bad"]}
            fc2, fs2 = figures(r["create"], r["seconds"]), figures(r["submit"], r["seconds"])
            writes = (fc2["n"] + fs2["n"]) / r["seconds"]
            print(
                f"\nstorm ({args.duration:.0f} s): {args.storm_writers} connections drafting and submitting as "
                f"{len(writers)} partners, {n_read} connections of an unrelated user reading; "
                f"{writes:.0f} writes/s in all"
            )
            print(line("storm: POST /api/proposals (draft)", fc2) + (f"  errors: {r['bad']}" if r["bad"] else ""))
            print(line("storm: POST /api/proposals/{id}/submit", fs2))
            print(line("storm: unrelated GET /api/calls/{id}", fr) + (f"  not 200: {fr['bad']}" if fr["bad"] else ""))

            m = results["mixed reads"]
            ok_reads = m["rps"] >= 500 and m["p95"] < 50
            ok_sub = fc["p95"] < 150 and fs["p95"] < 150
            ok_storm = fr["p95"] < 200
            print(f"load average after the run {os.getloadavg()[0]:.1f}")
            overflows1 = listen_overflows()
            print(
                f"Uvicorn worker processes replaced during the run: {worker_replacements(tmp)}; listen-queue overflows "
                "on the machine: "
                + (f"{overflows1 - overflows0}" if overflows0 is not None and overflows1 is not None else "unknown")
            )
            print(
                f"\ntargets: reads >= 500 req/s with p95 < 50 ms: {'met' if ok_reads else 'NOT met'} "
                f"({m['rps']:.0f} req/s, p95 {m['p95']:.1f} ms; {tool}); submission p95 < 150 ms: "
                f"{'met' if ok_sub else 'NOT met'} (draft {fc['p95']:.1f} ms, submit {fs['p95']:.1f} ms); "
                f"unrelated reads in the storm p95 < 200 ms: {'met' if ok_storm else 'NOT met'} "
                f"({fr['p95']:.1f} ms)"
            )
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
