"""The readiness check's scans of the publication reports, remembered by what determines them.

A scan's findings follow from what it reads and for whom: the same stored file, or the same template
and context rendered, read for the same people, gives the same findings. Most changes to a review (a
pend and a resume, a deadline met, a panel minute) change none of the reports' text, so a check after
them can skip the rendering and the reading, two thirds of its time. Keys are keyed digests with the
running code's fingerprint (a deploy may change what a rendering holds).

Two places remember them: the review's kept readiness result (`readiness_results.scans`, the scans
its last check used, shared by every worker) and each process's bounded memo.
"""
from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from typing import Callable

from app.documents.fingerprint import service_fingerprint

Findings = list[dict]


class _Memo:
    """This process's most recent scans, bounded."""

    def __init__(self, size: int = 2048) -> None:
        self._found: OrderedDict[str, Findings] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: str) -> Findings | None:
        with self._lock:
            if key in self._found:
                self._found.move_to_end(key)
                return self._found[key]
        return None

    def put(self, key: str, findings: Findings) -> None:
        with self._lock:
            self._found[key] = findings
            while len(self._found) > self._size:
                self._found.popitem(last=False)


_memo = _Memo()


def scan_key(*parts) -> str:
    # default=repr: a value JSON cannot spell gives a key that never matches again, never a wrong match
    # (reprs of the context's plain values are stable; an object's carries its address).
    text = json.dumps(parts, sort_keys=True, default=repr)
    return hashlib.blake2b(text.encode(), key=service_fingerprint(), digest_size=32).hexdigest()


class Scans:
    """The scans of one check: those kept with the review's last result, then this process's memo,
    else read now. `used` holds every scan this check needed, to be kept with its result."""

    def __init__(self, kept: dict[str, Findings] | None = None) -> None:
        self.kept = kept or {}
        self.used: dict[str, Findings] = {}

    def get(self, key: str, scan_now: Callable[[], Findings]) -> Findings:
        findings = self.kept.get(key)
        if findings is None:
            findings = _memo.get(key)
        if findings is None:
            findings = scan_now()
        _memo.put(key, findings)
        self.used[key] = findings
        return findings
