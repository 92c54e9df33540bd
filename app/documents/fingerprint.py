"""A digest of the code and statutory templates this service runs: what it works out and keeps
(readiness results, the reports' scans) is keyed with it, so another release never reuses them."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from app.core.config import get_settings


@lru_cache(maxsize=1)
def service_fingerprint() -> bytes:
    """A digest of the code and statutory templates that make the check: another release, another key."""
    digest = hashlib.blake2b(digest_size=16)
    app_root = Path(__file__).resolve().parents[1]
    files = sorted(app_root.rglob("*.py")) + sorted(Path(get_settings().templates_dir).glob("*.docx"))
    for path in files:
        digest.update(str(path.relative_to(path.parents[1])).encode())
        digest.update(path.read_bytes())
    return digest.digest()
