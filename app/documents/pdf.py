"""PDF copies made by LibreOffice (`soffice --headless`), where it is installed.

Each conversion gets its own LibreOffice profile directory: two conversions sharing the default
profile would wait on each other's lock, or fail.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from app.core.config import get_settings
from app.core.errors import Unavailable

TIMEOUT_SECONDS = 180


def soffice() -> str | None:
    configured = get_settings().soffice_path
    return configured if configured and Path(configured).exists() else shutil.which("soffice")


def available() -> bool:
    return soffice() is not None


def to_pdf(docx: bytes) -> bytes:
    program = soffice()
    if program is None:
        raise Unavailable("PDF copies need LibreOffice on the server, and it is not installed here: download the .docx instead, or ask the administrator to install libreoffice-writer.")
    with tempfile.TemporaryDirectory(prefix="dhr-pdf-") as work:
        folder = Path(work)
        source = folder / "document.docx"
        source.write_bytes(docx)
        command = [
            program, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless", "--norestore",
            "--convert-to", "pdf", "--outdir", str(folder), str(source),
        ]
        try:
            subprocess.run(command, capture_output=True, timeout=TIMEOUT_SECONDS, check=False, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise Unavailable(f"LibreOffice took more than {TIMEOUT_SECONDS} seconds to make the PDF: try again later, or download the .docx.") from None
        result = folder / "document.pdf"
        if not result.exists() or result.stat().st_size == 0:
            raise Unavailable("LibreOffice could not turn this document into a PDF: download the .docx instead.")
        return result.read_bytes()
