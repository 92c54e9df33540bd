"""Settings from the environment (DHR_*), validated once at start-up."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER_SECRET = "change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DHR_", env_file=".env", extra="ignore")

    env: str = "development"
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'dhr.sqlite3'}"
    secret_key: str = PLACEHOLDER_SECRET
    base_url: str = "http://127.0.0.1:8000"
    workflows_dir: Path = PROJECT_ROOT / "workflows"
    templates_dir: Path = PROJECT_ROOT / "docx_templates"
    # LibreOffice for PDFs; found on PATH when empty. Without it documents are .docx only.
    soffice_path: str = ""
    # pg_dump, pg_restore and psql for `dhr backup` and `dhr restore`; when empty, the version nearest
    # the server's among /usr/lib/postgresql/*/bin and PATH.
    pg_bin_dir: str = ""
    max_upload_bytes: int = 20 * 1024 * 1024
    token_ttl_minutes: int = 480
    # Sessions and tokens end after this long unused (measured to the minute), and a web session
    # after session_absolute_minutes whatever its use; an API token lasts token_ttl_minutes.
    session_idle_minutes: int = Field(default=30, ge=1)
    session_absolute_minutes: int = Field(default=720, ge=1)
    token_idle_minutes: int = Field(default=60, ge=1)
    # Failed sign-ins in a row: after sign_in_slow_after each further attempt waits, from
    # sign_in_delay_seconds doubling; after sign_in_lock_after the account is locked for a while.
    sign_in_slow_after: int = Field(default=3, ge=1)
    sign_in_delay_seconds: int = Field(default=5, ge=1)
    sign_in_lock_after: int = Field(default=10, ge=2)
    sign_in_lock_minutes: int = Field(default=30, ge=1)
    sweep_interval_seconds: int = 300
    # `dhr serve` sweeps the deadlines itself; false where one `dhr sweep --every` worker does it for
    # every replica (docker-compose.yml). Its mail round runs either way, so events' emails go out promptly.
    sweep_in_serve: bool = True
    # Requests a worker process handles at once (its pool of request threads; the rest wait their turn).
    # One interpreter runs one thread at a time, so more only raise the worker's memory under a burst.
    request_threads: int = Field(default=16, ge=1, le=200)
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = 30
    mail_from: str = "dhr-no-reply@localhost"
    mail_dir: Path = PROJECT_ROOT / "var" / "mail"
    # Waiting mail is sent this often by `dhr serve`; a failed attempt is retried after
    # mail_retry_seconds, doubling each time up to mail_retry_max_seconds.
    mail_dispatch_interval_seconds: int = 15
    mail_retry_seconds: int = 60
    mail_retry_max_seconds: int = 3600
    # How long a dispatcher's claim on a message lasts; after it another may send it (the first died).
    mail_claim_seconds: int = 300
    # Fixes today's date for demonstrations and tests; refused in production.
    clock_today: str | None = None
    # Log lines of `dhr serve`: json (one object per line) or text; unset, json in production, text otherwise.
    log_format: Literal["json", "text"] | None = None
    # Who may read /metrics: with a token, whoever sends it as "Authorization: Bearer <token>"; without,
    # only a direct connection from this machine (127.0.0.1 or ::1, not through a proxy).
    metrics_token: str | None = None

    @model_validator(mode="after")
    def refuse_unsafe_production(self) -> "Settings":
        if self.env == "production":
            if self.secret_key == PLACEHOLDER_SECRET or len(self.secret_key) < 32:
                raise ValueError(
                    "DHR_SECRET_KEY must be set to a random value of at least 32 characters in production "
                    "(for example: python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
            if self.clock_today:
                raise ValueError("DHR_CLOCK_TODAY may not be set in production: remove it")
        return self

    @property
    def log_style(self) -> str:
        return self.log_format or ("json" if self.env == "production" else "text")


@lru_cache
def get_settings() -> Settings:
    return Settings()
