"""Errors a person reads: each says what is wrong and what to do next."""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status_code = 400

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    status_code = 404

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} was not found, or you do not have access to it. Check the id, or ask the "
            "CSP coordinator to give you access."
        )


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    status_code = 409


class Invalid(DomainError):
    status_code = 422


class PreconditionFailed(DomainError):
    status_code = 412


class PreconditionRequired(DomainError):
    status_code = 428


class Unavailable(DomainError):
    """A component this request needs (LibreOffice, say) is missing or failing; nothing was changed."""

    status_code = 503
