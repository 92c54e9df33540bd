"""The statutory templates themselves: built from their script, and using only what the context gives.

No database: these read docx_templates/ and render against the invented review of
app/documents/sample.py, in every variant and both IMR states (draft prompts and final content).
"""
from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import docx
import pytest
from docxtpl import DocxTemplate

from app.documents import templates
from app.documents.context import build_context
from app.documents.docx_text import plain_text
from app.documents.models import DOCUMENT_KINDS
from app.documents.render import jinja_env, render_docx
from app.documents.sample import sample_facts

ROOT = Path(__file__).resolve().parents[1]


def _builder():
    spec = importlib.util.spec_from_file_location("build_docx_templates", ROOT / "scripts" / "build_docx_templates.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("kind", [*DOCUMENT_KINDS, "quarterly_report"])
def test_committed_template_is_what_the_build_script_makes(kind):
    """Edit scripts/build_docx_templates.py and run it; never edit a committed .docx by hand."""
    builder = _builder()
    built = builder.reproducible(builder.TEMPLATES[f"{kind}.docx"]())
    assert built == (ROOT / "docx_templates" / f"{kind}.docx").read_bytes(), (
        f"docx_templates/{kind}.docx differs from what scripts/build_docx_templates.py makes: run the script and commit"
    )


@pytest.mark.parametrize("kind", DOCUMENT_KINDS)
def test_no_template_uses_a_variable_the_context_lacks(kind):
    content = templates.statutory(kind).content
    used = DocxTemplate(io.BytesIO(content)).get_undeclared_template_variables(jinja_env())
    provided = set(build_context(sample_facts(), kind, "restricted", imr_id="i1"))
    assert used, "the template uses no variables at all: the test would prove nothing"
    assert used <= provided, f"{kind} uses {sorted(used - provided)}, which its context does not provide"


@pytest.mark.parametrize("kind", DOCUMENT_KINDS)
@pytest.mark.parametrize("imr_id", ["i1", "i2"], ids=["final-imr", "draft-imr"])
def test_every_template_renders_strictly_in_every_variant(kind, imr_id):
    """StrictUndefined: a misspelt attribute anywhere on the rendered path fails here, not in a real review."""
    for variant in templates.variants_of(kind):
        context = build_context(sample_facts(), kind, variant, imr_id=imr_id, signatory=("Alex Signatory", "Chair"))
        content = render_docx(templates.statutory(kind).content, context, title=kind, publication=variant == "publication")
        text = plain_text(content)
        assert "{{" not in text and "{%" not in text, f"{kind} {variant}: a tag was left unrendered"
        assert "DHR-2026-SAMPLE-001" in text
        assert ("OFFICIAL-SENSITIVE" in text) == (variant == "restricted")
        docx.Document(io.BytesIO(content))  # Word's model of it opens


def test_draft_imr_prompts_the_author_and_final_imr_does_not():
    def text(imr_id: str) -> str:
        context = build_context(sample_facts(), "imr", "restricted", imr_id=imr_id)
        return plain_text(render_docx(templates.statutory("imr").content, context, title="imr", publication=False))

    prompt = "Record the methodology used including extent of document review and interviews undertaken."
    assert prompt in text("i2")
    assert prompt not in text("i1") and "Records review." in text("i1")
