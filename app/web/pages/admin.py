"""Set-up for administrators: partnerships, agencies and users (API.md, 'Set-up')."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select

from app.auth import api as auth_api
from app.auth.models import GLOBAL_ROLES, User
from app.auth.schemas import UserIn, UserPatch
from app.core.api import Paging
from app.partnerships import api as partnerships_api
from app.partnerships.models import Agency, Csp
from app.partnerships.schemas import AgencyIn, CspIn, CspPatch
from app.web.calls import Refused
from app.web.forms import FieldSpec, from_model
from app.web.pages import forms_flow
from app.web.pages.common import Posted, SignedIn, Web, fetch, form_page, render
from app.web.templating import humanise

router = APIRouter()


def _admin(web: Web) -> None:
    if not web.user.is_admin:
        raise Refused(404, "")


@router.get("/admin")
def admin(web: SignedIn) -> Response:
    _admin(web)
    csps = fetch(web, partnerships_api.list_csps, paging=Paging(limit=500, offset=0))["items"]
    agencies = fetch(web, partnerships_api.list_agencies, paging=Paging(limit=500, offset=0))["items"]
    users = web.session.scalars(select(User).order_by(User.name)).all()
    names = {c.id: c.code for c in csps} | {a.id: a.name for a in agencies}
    blocks = [
        {"type": "heading", "text": "Community Safety Partnerships"},
        {"type": "links", "items": [("Add a partnership", "/admin/csps/new")]},
        {"type": "table", "head": ["Name", "Code", "Region", "Retention", "Action"],
         "rows": [[c.name, c.code, c.region, f"{c.retention_years} years after a review ends", {"href": f"/admin/csps/{c.id}/edit", "text": f"Change {c.code}"}] for c in csps],
         "empty": "No partnerships yet."},
        {"type": "heading", "text": "Agencies"},
        {"type": "links", "items": [("Add an agency", "/admin/agencies/new")]},
        {"type": "table", "head": ["Name", "Kind", "Email"], "rows": [[a.name, humanise(a.kind), a.email] for a in agencies], "empty": "No agencies yet."},
        {"type": "heading", "text": "Users"},
        {"type": "links", "items": [("Add a user", "/admin/users/new")]},
        {"type": "table", "head": ["Name", "Email", "Roles", "Active", "Action"],
         "rows": [[u.name, u.email, ", ".join(humanise(r.role) + (f" ({names.get(r.csp_id or r.agency_id, '')})" if (r.csp_id or r.agency_id) else "") for r in u.roles),
                   _sign_in_status(u), {"href": f"/admin/users/{u.id}/edit", "text": f"Change {u.name}"}] for u in users]},
    ]
    return render(web, "part.html", title="Administration", blocks=blocks)


@router.get("/admin/csps/new")
def csp_form(web: SignedIn) -> Response:
    _admin(web)
    return form_page(web, title="Add a partnership", specs=from_model(CspIn), submit="Add the partnership", back="/admin")


@router.post("/admin/csps/new")
def add_csp(web: SignedIn, form: Posted) -> Response:
    _admin(web)
    return forms_flow.submit(web, form, fn=partnerships_api.create_csp, model=CspIn, specs=from_model(CspIn), title="Add a partnership",
                                   submit_text="Add the partnership", back="/admin", done="/admin", message="The partnership is added.")


def csp_edit_fields(csp=None) -> list[FieldSpec]:
    values = {n: getattr(csp, n) for n in CspPatch.model_fields} if csp is not None else {}
    return from_model(CspPatch, values=values, labels={"retention_years": "Retention period in years"})


CSP_EDIT_INTRO = ("A review is kept for the retention period after it concludes (or after the partnership decides not to review), "
                  "then `dhr purge` deletes it, unless it is on legal hold. A change applies to every review of the partnership, including those already concluded.")


@router.get("/admin/csps/{csp_id}/edit")
def csp_edit_form(web: SignedIn, csp_id: str) -> Response:
    _admin(web)
    csp = fetch(web, partnerships_api.get_csp, csp_id=csp_id)
    return form_page(web, title=f"Change {csp.name}", specs=csp_edit_fields(csp), submit="Save the partnership", back="/admin",
                     version=csp.version, intro=CSP_EDIT_INTRO)


@router.post("/admin/csps/{csp_id}/edit")
def save_csp(web: SignedIn, form: Posted, csp_id: str) -> Response:
    _admin(web)
    csp = fetch(web, partnerships_api.get_csp, csp_id=csp_id)
    return forms_flow.submit(web, form, fn=partnerships_api.update_csp, model=CspPatch, specs=csp_edit_fields(), title=f"Change {csp.name}",
                             submit_text="Save the partnership", back="/admin", done="/admin", message="The partnership is saved.",
                             editing=True, intro=CSP_EDIT_INTRO, csp_id=csp_id)


@router.get("/admin/agencies/new")
def agency_form(web: SignedIn) -> Response:
    _admin(web)
    return form_page(web, title="Add an agency", specs=from_model(AgencyIn), submit="Add the agency", back="/admin")


@router.post("/admin/agencies/new")
def add_agency(web: SignedIn, form: Posted) -> Response:
    _admin(web)
    return forms_flow.submit(web, form, fn=partnerships_api.create_agency, model=AgencyIn, specs=from_model(AgencyIn), title="Add an agency",
                                   submit_text="Add the agency", back="/admin", done="/admin", message="The agency is added.")


def role_fields(web: Web, user: User | None = None) -> list[FieldSpec]:
    csps = [(c.id, f"{c.name} ({c.code})") for c in web.session.scalars(select(Csp).order_by(Csp.name))]
    agencies = [(a.id, a.name) for a in web.session.scalars(select(Agency).order_by(Agency.name))]
    first = user.roles[0] if user is not None and user.roles else None
    return [
        FieldSpec(name="role", label="Role", widget="radios", required=True, choices=[(r, humanise(r)) for r in GLOBAL_ROLES], value=first.role if first else None),
        FieldSpec(name="csp_id", label="Partnership (for a CSP coordinator or chair)", widget="select", choices=csps, value=first.csp_id if first else None),
        FieldSpec(name="agency_id", label="Agency (for an IMR author or agency manager)", widget="select", choices=agencies, value=first.agency_id if first else None),
    ]


def user_fields(web: Web) -> list[FieldSpec]:
    return [FieldSpec(name="email", label="Email address", widget="email", required=True), FieldSpec(name="name", label="Full name", required=True),
            FieldSpec(name="password", label="First password", required=True, hint="At least 12 characters. Ask them to change it."), *role_fields(web)]


def _roles(values: dict) -> list[dict]:
    """The form's one role and scope, as the API's list of roles (the scope fields leave the body)."""
    return [{"role": values.pop("role", None), "csp_id": values.pop("csp_id", None), "agency_id": values.pop("agency_id", None)}]


@router.get("/admin/users/new")
def user_form(web: SignedIn) -> Response:
    _admin(web)
    return form_page(web, title="Add a user", specs=user_fields(web), submit="Add the user", back="/admin")


@router.post("/admin/users/new")
def add_user(web: SignedIn, form: Posted) -> Response:
    _admin(web)
    return forms_flow.submit(web, form, fn=auth_api.create_user, model=UserIn, specs=user_fields(web), shape=lambda v: v | {"roles": _roles(v)},
                                   title="Add a user", submit_text="Add the user", back="/admin", done="/admin", message="The user is added.")


def _sign_in_status(user: User) -> str:
    if not user.is_active:
        return "No"
    if user.sign_in_locked_until is not None:
        return f"Locked until {user.sign_in_locked_until:%H:%M} UTC (failed sign-ins)"
    return "Yes"


def edit_fields(web: Web, user: User) -> list[FieldSpec]:
    unlock = []
    if user.sign_in_locked_until is not None:
        unlock = [FieldSpec(name="unlock_sign_in", label="Unlock the account now", widget="checkbox", value=False,
                            hint=f"Locked until {user.sign_in_locked_until:%H:%M} UTC after {user.failed_sign_ins} failed sign-ins in a row. "
                                 "Unlock it once you know the person is the one trying to sign in.")]
    return [FieldSpec(name="name", label="Full name", required=True, value=user.name),
            FieldSpec(name="is_active", label="The account may sign in", widget="checkbox", value=user.is_active), *unlock, *role_fields(web, user)]


@router.get("/admin/users/{user_id}/edit")
def user_edit_form(web: SignedIn, user_id: str) -> Response:
    _admin(web)
    user = fetch(web, auth_api.get_user, user_id=user_id)
    return form_page(web, title=f"Change {user.name}", specs=edit_fields(web, user), submit="Save the user", back="/admin",
                     intro="Turning off sign-in ends every session of the account at once; turning it back on also ends a lock from failed sign-ins. A user with several roles keeps the first shown here; use the API for more.")


@router.post("/admin/users/{user_id}/edit")
def save_user(web: SignedIn, form: Posted, user_id: str) -> Response:
    _admin(web)
    user = fetch(web, auth_api.get_user, user_id=user_id)
    others = [{"role": r.role, "csp_id": r.csp_id, "agency_id": r.agency_id} for r in user.roles[1:]]
    return forms_flow.submit(web, form, fn=auth_api.update_user, model=UserPatch, specs=edit_fields(web, user), shape=lambda v: v | {"roles": _roles(v) + others},
                                   title=f"Change {user.name}", submit_text="Save the user", back="/admin", done="/admin", message="The user is saved.",
                                   user_id=user_id)
