"""Test set-up: a fresh, migrated database per test, on SQLite and on PostgreSQL.

PostgreSQL runs when DHR_TEST_POSTGRES_URL is set (`make test` starts a throwaway server). In CI
(CI=true) a missing PostgreSQL fails the tests instead of skipping them.
"""
from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

warnings.filterwarnings("ignore", category=DeprecationWarning)

from app.core import clock  # noqa: E402
from app.core.config import get_settings  # noqa: E402
from app.core.db import get_engine, get_sessionmaker  # noqa: E402
from app.core.migrate import upgrade  # noqa: E402
from app.models import Base  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_URL = os.environ.get("DHR_TEST_POSTGRES_URL")


def _reset_caches() -> None:
    get_settings.cache_clear()
    get_sessionmaker.cache_clear()
    try:
        get_engine().dispose()
    finally:
        get_engine.cache_clear()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_migrated() -> str:
    if not POSTGRES_URL:
        message = "PostgreSQL is not available: set DHR_TEST_POSTGRES_URL (make test starts a server when PostgreSQL is installed)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    upgrade(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, monkeypatch) -> str:
    if request.param == "sqlite":
        path = tmp_path / "dhr.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_migrated")
        engine = create_engine(url)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
    monkeypatch.setenv("DHR_DATABASE_URL", url)
    monkeypatch.setenv("DHR_MAIL_DIR", str(tmp_path / "mail"))
    monkeypatch.delenv("DHR_CLOCK_TODAY", raising=False)
    _reset_caches()
    yield url
    clock.set_today(None)
    _reset_caches()


@pytest.fixture
def session(database_url):
    s = get_sessionmaker()()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def app(database_url):
    from app.main import create_app

    return create_app()


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c


@pytest.fixture
def world(database_url):
    """Two partnerships, their agencies and one user per role (see tests/support.py)."""
    from tests.support import build_world

    return build_world()


@pytest.fixture
def api(client, world):
    from tests.support import Api

    return Api(client, world)


@pytest.fixture
def smtp(database_url, monkeypatch):
    """A real SMTP server on 127.0.0.1 that the app sends to (see tests/mail_server.py)."""
    from tests.mail_server import MailServer

    server = MailServer()
    server.start()
    monkeypatch.setenv("DHR_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DHR_SMTP_PORT", str(server.port))
    monkeypatch.setenv("DHR_MAIL_RETRY_SECONDS", "0")
    _reset_caches()
    try:
        yield server
    finally:
        server.stop()


# -- real-browser tests (tests/browser.py) ------------------------------------------------------------
@pytest.fixture
def live_server(database_url, world):
    """The app served by uvicorn on 127.0.0.1 (a free port), on this test's database; yields its base URL."""
    from app.main import create_app
    from tests.browser import LiveServer

    server = LiveServer(create_app())
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright (its own browser download does not work here)."""
    from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium

    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies from other tests) with one page, its base URL the live server."""
    context = browser.new_context(base_url=live_server, locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()
