"""Sign-in, sign-out and the person's own account (calendar link)."""
from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import Response

from app.auth import service as auth_service
from app.core.config import get_settings
from app.notifications import api as notifications_api
from app.web import session as web_session
from app.web.calls import perform
from app.web.forms import FieldSpec
from app.web.pages.common import AnyVisitor, Posted, SignedIn, redirect, render

router = APIRouter()


def _sign_in_fields(email: str = "") -> list[FieldSpec]:
    return [
        FieldSpec(name="email", label="Email address", widget="email", required=True, value=email),
        FieldSpec(name="password", label="Password", widget="input", required=True),
    ]


def _ended_message(ended: str | None) -> str | None:
    settings = get_settings()
    if ended == "idle":
        return (f"Your session ended because the service was not used for {settings.session_idle_minutes} minutes. "
                "Sign in again to carry on where you were.")
    if ended == "expired":
        hours = settings.session_absolute_minutes / 60
        return f"Your session ended because sessions last at most {hours:g} hours. Sign in again to carry on where you were."
    return None


@router.get("/sign-in")
def sign_in_page(web: AnyVisitor, next: str = Query("/", max_length=500), ended: str | None = Query(None, max_length=20)) -> Response:
    if web.principal is not None:
        return redirect(web, web_session.safe_next(next))
    return render(web, "sign_in.html", title="Sign in", specs=_sign_in_fields(), next=web_session.safe_next(next), errors=[],
                  ended=_ended_message(ended))


@router.post("/sign-in")
def sign_in(web: AnyVisitor, form: Posted) -> Response:
    email = str(form.get("email") or "").strip()
    password = str(form.get("password") or "")
    target = web_session.safe_next(str(form.get("next") or "/"))
    outcome = auth_service.sign_in(web.session, email=email, password=password, web=True) if email and password else None
    if outcome is None or outcome.token is None:
        # Returned, not raised: the failure it counted is committed.
        specs = _sign_in_fields(email)
        status, headers = 401, {}
        if outcome is None:
            message = "Enter your email address and password"
        elif outcome.held is not None:
            message = outcome.held.message(for_page=True)
            status, headers = outcome.held.status_code, {"Retry-After": str(outcome.held.seconds)}
        else:
            message = "The email address or password is wrong, or your account is disabled. Check them and try again, or ask your administrator."
        specs[0].error = message
        response = render(web, "sign_in.html", status_code=status, title="Sign in", specs=specs, next=target, errors=[{"text": message, "href": "#email"}])
        response.headers.update(headers)
        return response
    response = redirect(web, target)
    web_session.set_cookie(web.request, response, web_session.SESSION_COOKIE, outcome.token,
                           max_age=get_settings().session_absolute_minutes * 60)
    return response


@router.post("/sign-out")
def sign_out(web: AnyVisitor, form: Posted) -> Response:
    if web.principal is not None:
        auth_service.revoke(web.session, web.request.state.token_id)
    response = redirect(web, "/sign-in", "You have signed out.")
    response.delete_cookie(web_session.SESSION_COOKIE, path="/")
    return response


@router.get("/account")
def account(web: SignedIn) -> Response:
    link = notifications_api.my_calendar_link(session=web.session, principal=web.user)
    return render(web, "account.html", title="Your account", link=link)


@router.post("/account/calendar/reset")
def reset_calendar(web: SignedIn, form: Posted) -> Response:
    perform(notifications_api.reset_my_calendar_link, session=web.session, principal=web.user)
    return redirect(web, "/account", "Your calendar link has been replaced. The old link no longer works.")


@router.get("/accessibility")
def accessibility(web: AnyVisitor) -> Response:
    return render(web, "accessibility.html", title="Accessibility statement")
