"""One result of the readiness check."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Check:
    id: str
    passed: bool
    detail: str
    where: str | None = None
