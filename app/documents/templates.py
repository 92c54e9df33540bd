"""The templates in force: the statutory ones in docx_templates/, or a partnership's own copy.

A replacement is tried against an invented review (app/documents/sample.py) in every variant
it can be made in before it is accepted, so a broken template is refused at upload, naming the
problem, and never breaks a real document later.
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import jinja2
from docxtpl import DocxTemplate
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.core.errors import Invalid
from app.documents.context import TITLES, build_context
from app.documents.docx_safety import UnsafeDocument, inspect_docx
from app.documents.models import DOCUMENT_KINDS, PUBLICATION_KINDS, DocumentTemplate
from app.documents.render import jinja_env, render_docx
from app.documents.sample import sample_facts

SAMPLE_SIGNATORY = ("Alex Signatory", "Chair, Community Safety Partnership")


@dataclass(frozen=True)
class Template:
    kind: str
    content: bytes
    sha256: str
    source: str  # statutory | partnership
    version: int  # the partnership's version; 0 for the statutory template


def variants_of(kind: str) -> tuple[str, ...]:
    return ("restricted", "publication") if kind in PUBLICATION_KINDS else ("restricted",)


def require_kind(kind: str) -> None:
    if kind not in DOCUMENT_KINDS:
        raise Invalid(f"kind: '{kind}' is not a document kind; use one of {', '.join(DOCUMENT_KINDS)}.")


def statutory(kind: str) -> Template:
    content = (get_settings().templates_dir / f"{kind}.docx").read_bytes()
    return Template(kind, content, hashlib.sha256(content).hexdigest(), "statutory", 0)


def latest_row(session: Session, csp_id: str, kind: str) -> DocumentTemplate | None:
    return session.scalars(
        select(DocumentTemplate).where(DocumentTemplate.csp_id == csp_id, DocumentTemplate.kind == kind).order_by(DocumentTemplate.version.desc()).limit(1)
    ).first()


def in_force(session: Session, csp_id: str, kind: str) -> Template:
    row = latest_row(session, csp_id, kind)
    if row is None or row.content is None:
        return statutory(kind)
    return Template(kind, row.content, row.sha256 or "", "partnership", row.version)


def check(kind: str, content: bytes) -> None:
    """Refuses, saying why, a file that is not a safe .docx or will not render as `kind`."""
    try:
        inspect_docx(content)
    except UnsafeDocument as problem:
        raise Invalid(f"file: {problem.message}") from None
    try:
        undeclared = DocxTemplate(io.BytesIO(content)).get_undeclared_template_variables(jinja_env())
    except jinja2.TemplateSyntaxError as error:
        raise Invalid(f"file: a template tag cannot be read ({error.message}); check that every {{{{ }}}} and {{% %}} tag is complete and typed in one go.") from None
    facts = sample_facts()
    known = set(build_context(facts, kind, "restricted", imr_id="i1", signatory=SAMPLE_SIGNATORY))
    unknown = sorted(set(undeclared) - known)
    if unknown:
        raise Invalid(
            f"file: the template uses {', '.join(unknown)}, which the {TITLES[kind]} does not provide. "
            f"It may use: {', '.join(sorted(known))} (docx_templates/README.md lists every field)."
        )
    for variant in variants_of(kind):
        context = build_context(facts, kind, variant, imr_id="i1", signatory=SAMPLE_SIGNATORY)
        try:
            render_docx(content, context, title=kind, publication=variant == "publication")
        except jinja2.UndefinedError as error:
            raise Invalid(f"file: the template asks for something the {TITLES[kind]} does not provide: {error.message}. docx_templates/README.md lists every field.") from None
        except jinja2.TemplateError as error:
            raise Invalid(f"file: the template cannot be rendered: {error}. Fix the tag it names and upload it again.") from None
        except Exception as error:  # docxtpl raises plain errors for tags that break Word's XML
            raise Invalid(f"file: the template cannot be rendered ({type(error).__name__}: {error}). A tag probably spans a table row or paragraph it should not.") from None


def _next_version(session: Session, csp_id: str, kind: str) -> int:
    current = session.scalar(select(func.max(DocumentTemplate.version)).where(DocumentTemplate.csp_id == csp_id, DocumentTemplate.kind == kind))
    return (current or 0) + 1


def replace(session: Session, *, csp_id: str, kind: str, content: bytes, user) -> DocumentTemplate:
    require_kind(kind)
    check(kind, content)
    row = DocumentTemplate(
        csp_id=csp_id, kind=kind, version=_next_version(session, csp_id, kind), sha256=hashlib.sha256(content).hexdigest(),
        size=len(content), content=content, uploaded_by=user.id if user else None, uploaded_by_name=user.name if user else "command line",
    )
    session.add(row)
    return row


def reset(session: Session, *, csp_id: str, kind: str, user) -> DocumentTemplate:
    """Back to the statutory template; the partnership's earlier copies stay on record."""
    require_kind(kind)
    row = DocumentTemplate(
        csp_id=csp_id, kind=kind, version=_next_version(session, csp_id, kind), sha256=None, size=0, content=None,
        uploaded_by=user.id if user else None, uploaded_by_name=user.name if user else "command line",
    )
    session.add(row)
    return row
