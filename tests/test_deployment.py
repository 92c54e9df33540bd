"""The production deployment (README, Production): docker-compose.yml, the Dockerfile, the proxy's
nginx.conf and .env.example say what an operator relies on, and Debian's docker-compose accepts the
file. No container runs here; what can be checked without an engine is checked."""
from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
import yaml
from pydantic import TypeAdapter
from typer.testing import CliRunner

from app.cli import app as cli
from app.core.config import Settings, get_settings
from app.notifications.dispatch import DispatchResult

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
IN_CI = os.environ.get("CI", "").lower() == "true"
DUMMY_SECRET = "dummy-secret-for-config-checks-0123456789abcdef"
MISSING_COMPOSE = "docker-compose is not installed (apt-get install docker-compose): docker-compose.yml cannot be validated"
# `${NAME}`, `${NAME:-default}`, `${NAME:?message}` (and not `$${...}`, an escaped dollar).
INTERPOLATED = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())  # safe_load resolves the `<<: *dhr` merges


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _settings_variables() -> set[str]:
    return {f"DHR_{name.upper()}" for name in Settings.model_fields}


def _compose_variables() -> set[str]:
    return set(INTERPOLATED.findall(COMPOSE_FILE.read_text()))


def _env_example_variables() -> set[str]:
    """Every NAME=value line of .env.example, commented out or not."""
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", text, flags=re.M))


def _long_running(services: dict) -> dict:
    return {name: s for name, s in services.items() if s.get("restart") != "no"}


def _host_ports(service: dict) -> list[str]:
    """The host side of each published port, as "address:port"."""
    published = []
    for entry in service.get("ports", []):
        parts = str(entry).split(":")
        assert len(parts) == 3, f"publish on an address, not on every interface: {entry}"
        published.append(f"{parts[0]}:{parts[1]}")
    return published


# -- the services -----------------------------------------------------------------------------------

def test_compose_runs_the_database_migration_app_proxy_sweep_and_mailpit(services):
    assert {"db", "migrate", "app", "proxy", "sweep", "mailpit"} <= set(services)


def test_every_long_running_service_has_a_health_check(services):
    long_running = _long_running(services)
    assert set(long_running) == {"db", "app", "proxy", "sweep", "mailpit"}, "only the migration may be one-shot"
    for name, service in long_running.items():
        check = service.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), f"{name} has no health check"
        assert service.get("restart") == "unless-stopped", f"{name} is not restarted when it stops"


def test_the_migration_runs_once_before_the_app_and_the_sweep(services):
    assert services["migrate"]["command"] == ["dhr", "migrate"]
    assert services["migrate"]["restart"] == "no"
    for name in ("app", "sweep"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert services[name]["depends_on"]["db"] == {"condition": "service_healthy"}


def test_the_app_scales_out_behind_the_proxy_without_a_port_clash(services):
    assert "ports" not in services["app"], "a fixed host port on app clashes with --scale app=N"
    assert services["app"]["deploy"]["replicas"] >= 2
    assert _host_ports(services["proxy"]) == ["127.0.0.1:8000"]
    assert services["proxy"]["depends_on"]["app"] == {"condition": "service_healthy"}
    published = [port for service in services.values() for port in _host_ports(service)]
    assert len(published) == len(set(published)), f"two services publish the same port: {published}"
    assert all(port.startswith("127.0.0.1:") for port in published), "publish on this machine only; end TLS in front"


def test_the_proxy_balances_over_every_replica_and_logs_no_paths(services):
    mount = next(v for v in services["proxy"]["volumes"] if v.endswith(":/etc/nginx/conf.d/default.conf:ro"))
    conf = (ROOT / mount.split(":")[0]).read_text()
    # Docker's DNS, asked again at request time, so replicas started later get requests too.
    assert re.search(r"^resolver 127\.0\.0\.11 valid=\d+s", conf, flags=re.M)
    assert re.search(r"set \$(\w+) http://app:8000;\s+proxy_pass \$\1;", conf)
    assert re.search(r"^\s*listen 8000;", conf, flags=re.M)
    # A calendar feed's path is its secret and query strings hold search terms (README, Operations).
    assert re.search(r"^\s*access_log off;", conf, flags=re.M)
    upload_limit = int(re.search(r"client_max_body_size (\d+)m;", conf).group(1)) * 1024 * 1024
    assert upload_limit > Settings().max_upload_bytes


def test_exactly_one_service_sweeps_the_deadlines(services):
    sweepers = [name for name, s in services.items() if s.get("command", [None])[:2] == ["dhr", "sweep"]]
    assert sweepers == ["sweep"]
    assert services["sweep"]["deploy"]["replicas"] == 1
    assert "--every" in services["sweep"]["command"]
    serve = services["app"]["command"]
    assert serve[:2] == ["dhr", "serve"] and "--workers" in serve
    in_serve = services["app"]["environment"]["DHR_SWEEP_IN_SERVE"]
    assert TypeAdapter(bool).validate_python(in_serve) is False, "each app replica would sweep as well"


def test_the_migration_app_and_sweep_share_one_image_and_one_database(services):
    trio = [services[name] for name in ("migrate", "app", "sweep")]
    assert len({s["image"] for s in trio}) == 1
    assert len({s["environment"]["DHR_DATABASE_URL"] for s in trio}) == 1
    assert len({s["environment"]["DHR_SECRET_KEY"] for s in trio}) == 1, "the history chain needs one key"
    db = services["db"]["environment"]
    url = trio[0]["environment"]["DHR_DATABASE_URL"]
    assert url == f"postgresql+psycopg://{db['POSTGRES_USER']}:{db['POSTGRES_PASSWORD']}@db:5432/{db['POSTGRES_DB']}"
    assert all(s["environment"]["DHR_ENV"] == "production" for s in trio)
    assert trio[0]["environment"]["DHR_SECRET_KEY"].startswith("${DHR_SECRET_KEY:?"), "the secret must be required"


def test_every_image_is_pinned_to_a_version(services):
    for name, service in services.items():
        image = service["image"]
        assert ":" in image, f"{name}: {image} has no tag"
        tag = image.rsplit(":", 1)[1]
        assert tag != "latest" and re.match(r"v?\d+(\.\d+)*(-[a-z0-9]+)?$", tag), f"{name}: {image} is not pinned to a version"


def test_the_image_backs_up_the_compose_database_and_makes_pdfs(services):
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.\d+-slim-bookworm$", dockerfile, flags=re.M), "pin the base to a Debian release"
    client = re.search(r"postgresql-client-(\d+)", dockerfile)
    server = re.match(r"postgres:(\d+)", services["db"]["image"])
    # pg_dump refuses a newer server: `dhr backup` in the app's image needs the server's major version.
    assert client and server and client.group(1) == server.group(1)
    assert "libreoffice-writer-nogui" in dockerfile and "--no-install-recommends" in dockerfile


# -- settings -------------------------------------------------------------------------------------

def test_every_dhr_variable_compose_sets_is_a_setting(services):
    known = _settings_variables()
    for name, service in services.items():
        for variable in service.get("environment", {}):
            if variable.startswith("DHR_"):
                assert variable in known, f"{name} sets {variable}, which no setting in app/core/config.py reads"


def test_env_example_lists_only_known_variables_and_every_one_compose_reads():
    listed = _env_example_variables()
    known = _settings_variables() | _compose_variables()
    assert listed - known == set(), "in .env.example but read by nothing"
    assert _compose_variables() - listed == set(), "docker-compose.yml reads these, and .env.example does not list them"


# -- Debian's docker-compose ------------------------------------------------------------------------

def _docker_compose(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    program = shutil.which("docker-compose")
    if program is None:
        if IN_CI:
            pytest.fail(MISSING_COMPOSE)
        pytest.skip(MISSING_COMPOSE)
    empty = tmp_path / "empty.env"  # so a developer's own .env cannot change the answer
    empty.write_text("")
    clean = {k: v for k, v in os.environ.items() if k not in _compose_variables()}
    return subprocess.run(
        [program, "--env-file", str(empty), "-f", str(COMPOSE_FILE), "config"],
        cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120,
    )


def test_docker_compose_accepts_the_file_as_operators_run_it(tmp_path):
    result = _docker_compose(tmp_path, DHR_SECRET_KEY=DUMMY_SECRET, DHR_BASE_URL="https://dhr.example.org")
    assert result.returncode == 0, result.stderr
    rendered = yaml.safe_load(result.stdout)["services"]
    assert rendered["app"]["environment"]["DHR_SECRET_KEY"] == DUMMY_SECRET
    assert rendered["app"]["environment"]["DHR_BASE_URL"] == "https://dhr.example.org"
    assert "ports" not in rendered["app"]
    assert rendered["sweep"]["environment"]["DHR_SWEEP_IN_SERVE"] == "false"


def test_docker_compose_refuses_to_start_without_the_secret_key(tmp_path):
    result = _docker_compose(tmp_path)
    assert result.returncode != 0
    assert "set DHR_SECRET_KEY" in result.stderr


# -- the sweep worker's health check ------------------------------------------------------------------

def test_the_sweep_worker_shows_it_is_alive_after_each_round(database_url, tmp_path):
    beat = tmp_path / "sweep.heartbeat"
    result = CliRunner().invoke(cli, ["sweep", "--heartbeat", str(beat)])
    assert result.exit_code == 0, result.output
    assert beat.exists()
    checked = CliRunner().invoke(cli, ["check-heartbeat", str(beat)])
    assert checked.exit_code == 0 and "alive" in checked.output

    stale = time.time() - (2 * get_settings().sweep_interval_seconds + 120)
    os.utime(beat, (stale, stale))
    checked = CliRunner().invoke(cli, ["check-heartbeat", str(beat)])
    assert checked.exit_code == 1 and "stuck or its rounds fail" in checked.output
    assert CliRunner().invoke(cli, ["check-heartbeat", str(beat), "--within", "100000"]).exit_code == 0


def test_a_sweep_worker_that_cannot_reach_the_database_is_unhealthy(tmp_path, monkeypatch):
    beat = tmp_path / "sweep.heartbeat"
    beat.touch()  # left by an earlier run of the container: must not vouch for this one
    monkeypatch.setenv("DHR_DATABASE_URL", f"sqlite:///{tmp_path / 'no-such-folder' / 'dhr.sqlite3'}")
    from tests.conftest import _reset_caches
    _reset_caches()
    try:
        result = CliRunner().invoke(cli, ["sweep", "--heartbeat", str(beat)])
    finally:
        monkeypatch.undo()
        _reset_caches()
    assert result.exit_code != 0
    assert not beat.exists()
    checked = CliRunner().invoke(cli, ["check-heartbeat", str(beat)])
    assert checked.exit_code == 1 and "has not finished a round" in checked.output


# -- one sweeper: `dhr serve` leaves the sweep to the worker when told to ---------------------------

def _background_rounds(monkeypatch, sweep_in_serve: str) -> dict[str, int]:
    from app.notifications import worker

    calls = {"sweep": 0, "mail": 0}

    def sweep_round(*_args, **_kwargs):
        calls["sweep"] += 1
        return worker.SweepResult(on=dt.date(2026, 1, 5)), DispatchResult()

    def mail_round(*_args, **_kwargs):
        calls["mail"] += 1
        return DispatchResult()

    monkeypatch.setattr(worker, "run_once", sweep_round)
    monkeypatch.setattr(worker, "dispatch", mail_round)
    monkeypatch.setenv("DHR_MAIL_DISPATCH_INTERVAL_SECONDS", "1")
    monkeypatch.setenv("DHR_SWEEP_IN_SERVE", sweep_in_serve)
    get_settings.cache_clear()

    async def a_few_rounds() -> None:
        task = asyncio.create_task(worker.background_loop())
        await asyncio.sleep(1.5)
        task.cancel()

    # In a thread of its own: another test's browser (Playwright) may keep an event loop running here.
    runner = threading.Thread(target=lambda: asyncio.run(a_few_rounds()))
    runner.start()
    runner.join(timeout=30)
    get_settings.cache_clear()
    return calls


def test_serve_sweeps_by_default(monkeypatch):
    calls = _background_rounds(monkeypatch, "true")
    assert calls["sweep"] >= 1


def test_serve_only_sends_mail_when_the_sweep_is_left_to_the_worker(monkeypatch):
    calls = _background_rounds(monkeypatch, "false")
    assert calls["sweep"] == 0
    assert calls["mail"] >= 2, "waiting mail must still go out from every replica"


def test_a_release_works_out_the_kept_readiness_results_after_the_migration(services):
    """A release changes every kept readiness result's key (app/documents/readiness_cache.py): a one-shot
    service works them out after the migration, beside the app, which does not wait for it."""
    assert services["readiness"]["command"] == ["dhr", "readiness-refresh"]
    assert services["readiness"]["restart"] == "no"
    assert services["readiness"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert "readiness" not in services["app"]["depends_on"]
