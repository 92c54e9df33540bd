"""Fault points for the crash tests: `point("name")` ends the process abruptly when DHR_FAULT names it.

Honoured only when DHR_ENV=test, so a stray variable can never take a production process down.
"""
from __future__ import annotations

import os

EXIT_CODE = 75


def point(name: str) -> None:
    if os.environ.get("DHR_FAULT") == name and os.environ.get("DHR_ENV") == "test":
        os._exit(EXIT_CODE)  # no clean-up, no commit: as if the power went
