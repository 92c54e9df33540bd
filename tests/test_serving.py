"""`dhr serve --workers N` spreads connections over its workers (app/core/serving.py).

With one socket shared by every worker, Linux gave most connections to one worker: in the national
benchmark (issue 8) one of four workers held 22 of 32 connections and its requests queued on its one
interpreter while the others idled. Each worker now listens on a socket of its own (SO_REUSEPORT).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from app.core.serving import reuse_port_available
from tests.test_operations import ROOT, free_port

CONNECTIONS = 16


def _children(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        parent = queue.pop()
        try:
            children = [int(c) for c in Path(f"/proc/{parent}/task/{parent}/children").read_text().split()]
        except OSError:
            continue
        queue += children
        found += children
    return found


def _sockets_by_process(port: int, pids: list[int], state: str) -> dict[int, set[str]]:
    """The sockets on `port` in `state` (0A: listening, 01: established) that each process holds, by
    inode (from /proc: the kernel's TCP table, and each process's open files)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
            inodes.add(fields[9])
    held: dict[int, set[str]] = {}
    for pid in pids:
        try:
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            links = []
        held[pid] = {link[8:-1] for link in links if link.startswith("socket:[") and link[8:-1] in inodes}
    return held


def test_dhr_serve_spreads_connections_over_every_worker(sqlite_template, tmp_path):
    assert reuse_port_available(), "the service runs on Linux (Debian), whose kernel balances SO_REUSEPORT sockets"
    database = tmp_path / "dhr.sqlite3"
    shutil.copy(sqlite_template, database)
    port = free_port()
    env = {**os.environ, "DHR_DATABASE_URL": f"sqlite:///{database}", "DHR_SWEEP_IN_SERVE": "false",
           "DHR_MAIL_DISPATCH_INTERVAL_SECONDS": "3600", "DHR_MAIL_DIR": str(tmp_path / "mail")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen(
        [sys.executable, "-c", "from app.cli import main; main()", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    clients: list[httpx.Client] = []
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while time.monotonic() < deadline:
            workers = [pid for pid in _children(server.pid) if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()]
            try:
                if len(workers) == 2 and httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError("dhr serve did not start two workers")
        time.sleep(3)  # both workers warmed up and listening, not only the first to answer
        for _ in range(CONNECTIONS):  # each client keeps its connection open (keep-alive), as a proxy does
            client = httpx.Client(base_url=f"http://127.0.0.1:{port}")
            assert client.get("/healthz").status_code == 200
            clients.append(client)

        # Each worker listens on a socket of its own (one socket shared by both would show one inode twice).
        listening = _sockets_by_process(port, workers, "0A")
        assert all(len(sockets) == 1 for sockets in listening.values()), listening
        assert len(set().union(*listening.values())) == 2, listening
        # And the kernel spread the connections over both (each holds at least a few of the 16).
        held = {pid: len(sockets) for pid, sockets in _sockets_by_process(port, workers, "01").items()}
        assert sum(held.values()) == CONNECTIONS, held
        assert all(count >= 2 for count in held.values()), held
    finally:
        for client in clients:
            client.close()
        server.terminate()
        stdout, stderr = (stream.decode() for stream in server.communicate(timeout=30))
    assert "Traceback" not in stdout + stderr, stdout + stderr
    assert server.returncode == 0, stderr


def test_dhr_serve_says_when_its_port_is_taken(sqlite_template, tmp_path):
    database = tmp_path / "dhr.sqlite3"
    shutil.copy(sqlite_template, database)
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "DHR_DATABASE_URL": f"sqlite:///{database}", "DHR_SWEEP_IN_SERVE": "false"}
        result = subprocess.run(
            [sys.executable, "-c", "from app.cli import main; main()", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        )
    assert result.returncode != 0
    assert f"Cannot listen on 127.0.0.1:{port}" in result.stderr and "choose --port" in result.stderr, result.stderr


def test_a_worker_handles_at_most_request_threads_requests_at_once(database_url, monkeypatch):
    """DHR_REQUEST_THREADS bounds a worker's pool of request threads (its memory under a burst)."""
    import anyio.to_thread
    from fastapi.testclient import TestClient

    from app.core.config import get_settings
    from app.main import create_app

    monkeypatch.setenv("DHR_REQUEST_THREADS", "3")
    get_settings.cache_clear()
    with TestClient(create_app(), base_url="http://127.0.0.1") as client:
        assert client.get("/healthz").status_code == 200
        tokens = client.portal.call(lambda: anyio.to_thread.current_default_thread_limiter().total_tokens)
    assert tokens == 3
