"""`make bench`: the national benchmark, start to end, in one command (a benchmark, not a test).

1. Starts a throwaway PostgreSQL on 127.0.0.1 with PostgreSQL's durable defaults (fsync on), or uses
   --database-url, and builds the national dataset in it (benchmarks/national.py): 10,000 reviews in
   about 320 partnerships, 60,000 IMRs, 300,000 chronology entries, 100,000 actions and 1,000,000 history
   rows (--quick: a tenth).
2. Times the deadline sweep over it, and over 1,000, 10,000 and 100,000 reviews holding the same open
   reviews (the rest finished ones), to show its time follows what is due, not what is stored.
3. Serves the app with `dhr serve --workers N` on 127.0.0.1 and drives it with Locust (benchmarks/
   locustfile.py): each read kind and the health endpoint alone at 32 clients with no pause (capacity),
   then the mixed workload of CSP officers, agency staff, panel chairs and Home Office reviewers at 32
   and 128 clients (the clients file interleaves the roles, so the first 32 keep the mix of all 128). In each run the clients arrive over 4 s, and only what follows is measured. Prints p50, p95, p99 and throughput per kind, each also as a ratio to /healthz in
   the same run, and the peak memory (VmHWM) of every worker.
   Before serving, `dhr readiness-refresh` works out the kept readiness results, as a release does,
   and the database is vacuumed and analysed (VACUUM ANALYZE, as pgbench does before it measures), so
   that autovacuum does not work through the freshly loaded million rows during the timed runs; the
   sweep-scaling databases are dropped once timed, for the same reason.
4. Times the largest Overview Report (benchmarks/documents.py) and prints the query plans of each read
   kind and of the sweep.
5. Ends with the targets of issue 8, each with its measured figure.

    .venv/bin/python benchmarks/run.py [--quick] [--workers 4] [--seconds 30] [--database-url URL]
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
DHR = str(Path(PY).with_name("dhr"))
LOCUST = str(Path(PY).with_name("locust"))
READ_KINDS = ("home page", "review list (API, filtered)", "review list (page, filtered)", "review page", "review (API)")
TARGETS_MS = {"read_p95": 50, "event_p95": 100}
ARRIVAL_SECONDS = 4  # the clients of a run arrive over this long, before its measured seconds
SECRET = "benchmark-only-secret-" + "x" * 32


def say(message: str) -> None:
    print(f"\n==> bench: {message}", flush=True)


def run(args: list[str], env: dict, *, quiet_prefix: str | None = None) -> dict:
    """Run a step; echo its output; return the JSON object on its last line (if any)."""
    process = subprocess.run(args, env=env, cwd=ROOT, text=True, capture_output=True)
    lines = process.stdout.strip().splitlines()
    for line in lines[:-1] if lines and lines[-1].startswith("{") else lines:
        if quiet_prefix is None or not line.startswith(quiet_prefix):
            print("   " + line, flush=True)
    if process.returncode:
        print(process.stderr[-4000:], file=sys.stderr)
        raise SystemExit(f"bench: step failed ({process.returncode}): {' '.join(args[1:3])}")
    return json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}


class Postgres:
    """scripts/test-postgres with durable settings; databases made on it by name."""

    def __init__(self) -> None:
        env = {**os.environ, "TEST_POSTGRES_DURABLE": "1"}
        out = subprocess.run([str(ROOT / "scripts" / "test-postgres"), "start"], env=env, text=True, capture_output=True)
        if out.returncode:
            print(out.stderr, file=sys.stderr)
            raise SystemExit("bench: could not start PostgreSQL (Debian: apt-get install postgresql)")
        values = dict(line.split("=", 1) for line in out.stdout.split() if "=" in line)
        self.url, self.dir = values["DHR_TEST_POSTGRES_URL"], values["DHR_TEST_POSTGRES_DIR"]

    def database(self, name: str) -> str:
        autocommit(self.url, f"CREATE DATABASE {name}")
        return f"{self.url.rsplit('/', 1)[0]}/{name}"

    def drop(self, name: str) -> None:
        autocommit(self.url, f"DROP DATABASE {name}")

    def stop(self) -> None:
        subprocess.run([str(ROOT / "scripts" / "test-postgres"), "stop", self.dir], capture_output=True)


def settle(database_url: str) -> float:
    """VACUUM (ANALYZE) the database, as pgbench does before it measures; the seconds it took. A dataset
    loaded in a minute has every page of its million rows still to be vacuumed, and PostgreSQL's
    autovacuum would otherwise do that in the middle of the timed runs (a running service's tables are
    vacuumed a little at a time as they grow)."""
    started = time.monotonic()
    autocommit(database_url, "VACUUM (ANALYZE)")
    return time.monotonic() - started


def autocommit(database_url: str, statement: str) -> None:
    """One statement that cannot run in a transaction (CREATE/DROP DATABASE, VACUUM), on its own connection."""
    import psycopg

    with psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute(statement)


def app_env(database_url: str, work: Path) -> dict:
    return {**os.environ, "DHR_DATABASE_URL": database_url, "DHR_SECRET_KEY": SECRET, "DHR_ENV": "production",
            "DHR_MAIL_DIR": str(work / "mail"), "DHR_LOG_FORMAT": "json", "DHR_BASE_URL": "http://127.0.0.1",
            # As in docker-compose.yml the web workers do not sweep: the benchmark times the sweep on its own.
            "DHR_SWEEP_IN_SERVE": "false", "DHR_MAIL_DISPATCH_INTERVAL_SECONDS": "86400",
            "PYTHONPATH": str(ROOT)}


def machine_speed_ms() -> float:
    """A fixed piece of pure Python, timed (best of three). A shared virtual machine's speed can change
    by half from one hour to the next; the figures of two runs compare only next to this."""
    def once() -> float:
        started = time.perf_counter()
        total = 0
        for i in range(2_000_000):
            total += i * i
        return (time.perf_counter() - started) * 1000
    return min(once() for _ in range(3))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`dhr serve --workers N` on 127.0.0.1, its workers found through /proc for their peak memory."""

    def __init__(self, env: dict, workers: int, work: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(work / "server.log", "w")
        self.process = subprocess.Popen([DHR, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers)],
                                        env=env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/readyz", timeout=2) as response:
                    if response.status == 200 and len(self.workers()) >= workers:
                        return
            except OSError:
                pass
            if self.process.poll() is not None:
                raise SystemExit(f"bench: the server stopped; see {work / 'server.log'}")
            time.sleep(0.5)
        raise SystemExit(f"bench: the server was not ready in 90 s; see {work / 'server.log'}")

    def workers(self) -> list[int]:
        """The worker processes: every descendant of `dhr serve` that serves requests (not the
        multiprocessing resource tracker)."""
        found, queue = [], [self.process.pid]
        while queue:
            pid = queue.pop()
            try:
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                queue.append(child)
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
                if b"resource_tracker" not in cmdline:
                    found.append(child)
        return found

    def peak_memory_mb(self) -> dict[int, float]:
        peaks = {}
        for pid in self.workers():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks[pid] = int(line.split()[1]) / 1024
        return peaks

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


def locust(server: Server, clients_file: Path, users: int, seconds: int, work: Path, *, kind: str | None = None, think: float = 1.0) -> dict:
    """One Locust run; returns {kind: {count, failures, p50, p95, p99, rps}}."""
    prefix = work / f"locust-{users}-{(kind or 'mixed').replace(' ', '_').replace('(', '').replace(')', '').replace(',', '')}"
    env = {**os.environ, "BENCH_CLIENTS": str(clients_file), "BENCH_KIND": kind or "", "BENCH_THINK": str(think)}
    # The clients arrive over ARRIVAL_SECONDS, not all in one instant, and what they do while arriving
    # is not counted (--reset-stats): the figures are the steady state, as a day's users would meet it.
    args = [LOCUST, "-f", str(ROOT / "benchmarks" / "locustfile.py"), "--headless", "--host", server.url, "-u", str(users),
            "-r", str(max(1, users // ARRIVAL_SECONDS)), "--reset-stats", "-t", f"{seconds + ARRIVAL_SECONDS}s",
            "--csv", str(prefix), "--only-summary", "--loglevel", "ERROR", "--stop-timeout", "10"]
    process = subprocess.run(args, env=env, cwd=ROOT, text=True, capture_output=True)
    stats = {}
    with open(f"{prefix}_stats.csv") as f:
        for row in csv.DictReader(f):
            if row["Name"] in ("Aggregated", "(setup)"):
                continue
            stats[row["Name"]] = {"count": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                                  "p50": float(row["50%"]), "p95": float(row["95%"]), "p99": float(row["99%"]),
                                  "rps": float(row["Requests/s"])}
    if process.returncode not in (0, 1):  # 1: some requests failed, which the table shows
        print(process.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"bench: locust failed ({process.returncode})")
    failures = [line for line in open(f"{prefix}_failures.csv")][1:] if Path(f"{prefix}_failures.csv").exists() else []
    for line in failures[:5]:
        print("   failure: " + line.strip())
    return stats


def table(title: str, stats: dict, health: dict) -> str:
    lines = [title, f"   {'kind':<30}{'requests':>9}{'fail':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'req/s':>9}"
             f"{'p50 ×hz':>9}{'p95 ×hz':>9}{'p99 ×hz':>9}{'req/s ×hz':>11}"]
    for name, s in stats.items():
        ratio = lambda key: s[key] / health[key] if health.get(key) else float("nan")  # noqa: E731
        lines.append(f"   {name:<30}{s['count']:>9,}{s['failures']:>6}{s['p50']:>9.0f}{s['p95']:>9.0f}{s['p99']:>9.0f}{s['rps']:>9.1f}"
                     f"{ratio('p50'):>9.1f}{ratio('p95'):>9.1f}{ratio('p99'):>9.1f}{ratio('rps'):>11.2f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a tenth of the national size, and shorter runs")
    parser.add_argument("--workers", type=int, default=4, help="worker processes of dhr serve (default 4)")
    parser.add_argument("--seconds", type=int, default=None, help="length of each mixed run (default 30, quick 15)")
    parser.add_argument("--database-url", help="an empty PostgreSQL database to use instead of a throwaway cluster (no sweep scaling)")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway cluster and the work folder")
    args = parser.parse_args()
    size = "quick" if args.quick else "full"
    mixed_seconds = args.seconds or (15 if args.quick else 30)
    capacity_seconds = 6 if args.quick else 10
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="dhr-bench."))
    say(f"national benchmark ({size}); work folder {work}; {os.cpu_count()} CPU(s)")
    results_speed = [machine_speed_ms()]
    print(f"   this machine's speed now: {results_speed[0]:.0f} ms for a fixed piece of Python (lower is faster; compare runs by it)")

    postgres = None if args.database_url else Postgres()
    server = None
    results: dict = {"size": size, "workers": args.workers}
    try:
        url = args.database_url or postgres.database("dhr_bench")
        env = app_env(url, work)
        dataset = Path(ROOT / "benchmarks" / "dataset.py")

        say("building the national dataset in PostgreSQL")
        results["dataset"] = run([PY, str(dataset), "national", "--size", size], env)
        rows = results["dataset"]["rows"]
        print(f"   built in {results['dataset']['seconds']} s: {rows['reviews']:,} reviews, {rows['csps']} partnerships, "
              f"{rows['imrs']:,} IMRs, {rows['chronology_entries']:,} chronology entries, {rows['actions']:,} actions, "
              f"{rows['history']:,} history rows")

        today = dt.date.today()
        say("the deadline sweep over the whole dataset, as of tomorrow (the next daily run)")
        results["sweep"] = run([PY, str(dataset), "sweep", "--on", (today + dt.timedelta(days=1)).isoformat()], env)
        print(f"   {results['sweep']['due_reviews']} reviews due, swept in {results['sweep']['seconds']:.2f} s "
              f"(finding them {results['sweep']['find_seconds'] * 1000:.1f} ms)")
        if postgres:
            say("the sweep's scaling: the same open reviews among 1,000, 10,000 and 100,000 (one week's sweeps at once)")
            results["sweep_scaling"] = []
            open_reviews = 100 if args.quick else 1000
            for reviews in (1_000, 10_000, 100_000):
                scale_env = app_env(postgres.database(f"dhr_sweep_{reviews}"), work)
                built = run([PY, str(dataset), "sweep-scale", "--reviews", str(reviews), "--open", str(open_reviews)], scale_env, quiet_prefix="  ")
                timing = run([PY, str(dataset), "sweep", "--on", (today + dt.timedelta(days=7)).isoformat()], scale_env)
                results["sweep_scaling"].append({"reviews": built["rows"]["reviews"], "deadlines": built["rows"]["deadlines"], **timing})
                print(f"   {built['rows']['reviews']:>7,} reviews ({built['rows']['deadlines']:,} deadlines): {timing['due_reviews']} due, "
                      f"swept in {timing['seconds']:.2f} s (finding them {timing['find_seconds'] * 1000:.1f} ms)")
                # Dropped once timed: autovacuum would otherwise work through its new rows during the runs below.
                postgres.drop(f"dhr_sweep_{reviews}")

        say("the kept readiness results, worked out as a release does (dhr readiness-refresh, as in docker-compose.yml)")
        refreshed = time.monotonic()
        run([DHR, "readiness-refresh"], env)
        results["readiness_refresh_seconds"] = round(time.monotonic() - refreshed, 1)

        say("signing in the benchmark's clients")
        clients_file = work / "clients.json"
        run([PY, str(dataset), "clients", "--count", "128", "--out", str(clients_file)], env)

        say("settling the database before the timed runs (VACUUM ANALYZE, as pgbench does)")
        print(f"   done in {settle(url):.1f} s", flush=True)

        say(f"serving with {args.workers} workers on 127.0.0.1")
        server = Server(env, args.workers, work)
        print(f"   {server.url}, workers {server.workers()}")

        say(f"capacity: each kind alone, 32 clients, no pause, {capacity_seconds} s each")
        capacity = {}
        for kind in ("health",) + READ_KINDS:
            capacity.update(locust(server, clients_file, 32, capacity_seconds, work, kind=kind))
            print(f"   {kind:<30} {capacity[kind]['rps']:8.1f} req/s  p95 {capacity[kind]['p95']:.0f} ms", flush=True)
        results["capacity"] = capacity
        print(table("   capacity (ratio ×hz: to /healthz alone, same clients)", capacity, capacity["health"]))

        results["mixed"] = {}
        for users in (32, 128):
            say(f"mixed workload: {users} clients, each waiting 0.5-1.5 s between requests, {mixed_seconds} s")
            stats = locust(server, clients_file, users, mixed_seconds, work)
            results["mixed"][users] = stats
            print(table(f"   mixed, {users} clients (ratio ×hz: to /healthz in the same run)", stats, stats.get("health", {})))

        results["worker_peak_mb"] = server.peak_memory_mb()
        say("peak memory of each worker (VmHWM)")
        for pid, mb in results["worker_peak_mb"].items():
            print(f"   worker {pid}: {mb:.0f} MB")
        server.stop()
        server = None

        say("the largest Overview Report (benchmarks/documents.py, on PostgreSQL)")
        documents_url = postgres.database("dhr_documents") if postgres else None
        documents = subprocess.run([PY, str(ROOT / "benchmarks" / "documents.py"), "--repeat", "3", "--json", "--no-pdf"]
                                   + (["--database-url", documents_url] if documents_url else []),
                                   env={**env, **({"DHR_DATABASE_URL": documents_url} if documents_url else {})}, cwd=ROOT, text=True, capture_output=True)
        lines = documents.stdout.strip().splitlines()
        for line in lines[:-1]:
            print("   " + line)
        results["documents"] = json.loads(lines[-1]) if documents.returncode == 0 else {}
        if documents.returncode:
            print(documents.stderr[-3000:], file=sys.stderr)

        say("query plans of each read kind and of the sweep (PostgreSQL EXPLAIN, sequential scans off)")
        results["plans"] = run([PY, str(dataset), "plans", "--clients", str(clients_file), "--out", str(work / "plans.txt")], env)

        results_speed.append(machine_speed_ms())
        results["machine_speed_ms"] = results_speed
        print(f"\n   this machine's speed at the start and the end: {results_speed[0]:.0f} and {results_speed[1]:.0f} ms for the same piece of Python")
        results["minutes"] = (time.monotonic() - started) / 60
        summary = verdicts(results)
        say("targets (issue 8)")
        print(summary)
        (work / "results.json").write_text(json.dumps(results, indent=1, default=str))
        print(f"\n   all figures: {work / 'results.json'}; whole run {results['minutes']:.1f} min")
    finally:
        if server:
            server.stop()
        if postgres and not args.keep:
            postgres.stop()
        if not args.keep:
            for name in ("mail",):
                shutil.rmtree(work / name, ignore_errors=True)


def verdicts(results: dict) -> str:
    mixed32 = results["mixed"][32]
    capacity = results["capacity"]
    reads_p95 = max(mixed32[k]["p95"] for k in READ_KINDS if k in mixed32)
    reads_share = min(capacity[k]["rps"] / capacity["health"]["rps"] for k in READ_KINDS)
    event_p95 = mixed32.get("event", {}).get("p95", float("nan"))
    sweep = results["sweep"]["seconds"]
    scaling = results.get("sweep_scaling", [])
    largest = results.get("documents", {}).get("overview_report_max_seconds", float("nan"))
    peak = max(results["worker_peak_mb"].values()) if results["worker_peak_mb"] else float("nan")
    rows = [
        ("read requests p95, 32 clients (slowest read kind)", f"{reads_p95:.0f} ms", "≤ 50 ms", reads_p95 <= 50),
        ("read throughput / health endpoint (lowest read kind)", f"{reads_share:.0%}", "≥ 40%", reads_share >= 0.4),
        ("event p95, 32 clients", f"{event_p95:.0f} ms", "≤ 100 ms", event_p95 <= 100),
        (f"sweep over the whole dataset ({results['sweep']['due_reviews']} reviews due)", f"{sweep:.2f} s", "≤ 2 s", sweep <= 2),
    ]
    if scaling:
        flat = max(s["seconds"] for s in scaling) <= 2 * min(s["seconds"] for s in scaling) + 0.05
        rows.append(("sweep time at " + " / ".join(f"{s['reviews']:,}" for s in scaling) + " reviews (same due)",
                     " / ".join(f"{s['seconds']:.2f} s" for s in scaling), "follows due, not total", flat))
    rows += [
        ("largest Overview Report", f"{largest:.2f} s", "≤ 1 s", largest <= 1),
        ("peak memory of a worker", f"{peak:.0f} MB", "≤ 250 MB", peak <= 250),
        ("whole benchmark", f"{results['minutes']:.1f} min", "< 10 min", results["minutes"] < 10),
    ]
    return "\n".join(f"   {'met ' if ok else 'MISSED'}  {what:<62} {value:>22}  (target {target})" for what, value, target, ok in rows)


if __name__ == "__main__":
    main()
