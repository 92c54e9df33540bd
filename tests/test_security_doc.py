"""SECURITY.md names the test proving each claim: every test it names must exist, and every claim
under "Claims and the tests that prove them" must name one, so the file cannot drift from the suite."""
from __future__ import annotations

import ast
import re

from app.core.config import PROJECT_ROOT

SECURITY = PROJECT_ROOT / "SECURITY.md"
NAMED = re.compile(r"`(test_[a-z0-9_]+\.py)::(test_[a-z0-9_]+)`")


def _tests_in(file_name: str) -> set[str]:
    tree = ast.parse((PROJECT_ROOT / "tests" / file_name).read_text())
    return {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_")}


def _claims() -> list[str]:
    text = SECURITY.read_text()
    section = text.split("## Claims and the tests that prove them", 1)[1].split("\n## ", 1)[0]
    claims, current = [], None
    for line in section.splitlines():
        if line.startswith("- "):
            current = line
            claims.append(current)
        elif line.startswith("  ") and claims:
            claims[-1] += " " + line.strip()
    return claims


def test_every_test_security_md_names_exists():
    named = NAMED.findall(SECURITY.read_text())
    assert len(named) > 60
    missing = [f"{file}::{name}" for file, name in named if not (PROJECT_ROOT / "tests" / file).exists() or name not in _tests_in(file)]
    assert missing == [], f"SECURITY.md names tests that do not exist: {missing}"


def test_every_claim_names_the_test_that_proves_it():
    claims = _claims()
    assert len(claims) > 30
    unproven = [claim[:100] for claim in claims if not NAMED.search(claim)]
    assert unproven == [], f"claims in SECURITY.md without a test: {unproven}"
