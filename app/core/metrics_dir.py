"""The folder where `dhr serve`'s workers keep their request metrics (prometheus-client's multiprocess mode).

One folder per `dhr serve` process, named by its pid, so a restart never counts old requests again.
A server stopped by a signal cannot always remove its own (uvicorn re-raises SIGTERM once it has shut
down), so each start removes the folders of servers no longer running. No prometheus_client import
here: the variable must be set before prometheus_client is first imported.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

PREFIX = "dhr-metrics-"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def fresh() -> Path:
    root = Path(tempfile.gettempdir())
    for old in root.glob(f"{PREFIX}*"):
        pid = old.name.removeprefix(PREFIX)
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    path = root / f"{PREFIX}{os.getpid()}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(mode=0o700)
    return path
