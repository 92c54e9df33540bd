"""Test helpers: a small invented world of partnerships, agencies and users, and an API driver.

Everyone here is invented. Users get a pre-computed password hash and a token made directly, so
tests stay fast; the sign-in tests use the real endpoint.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from app.auth.models import ApiToken, User, UserRole
from app.auth.security import hash_password, new_token, token_digest
from app.core import clock
from app.core.db import session_scope
from app.partnerships.models import Agency, Csp

PASSWORD = "correct horse battery staple"


@lru_cache
def password_hash() -> str:
    return hash_password(PASSWORD)


@dataclass
class Person:
    key: str
    id: str
    email: str
    name: str
    token: str


@dataclass
class World:
    csps: dict[str, str] = field(default_factory=dict)  # code -> id
    agencies: dict[str, str] = field(default_factory=dict)  # key -> id
    users: dict[str, Person] = field(default_factory=dict)  # key -> person

    def user(self, key: str) -> Person:
        return self.users[key]


# key: (name, role, scope kind, scope key). "other_" users hold the same roles elsewhere.
USERS = [
    ("admin", "Ada Admin", "admin", None, None),
    ("home_office", "Hugo Homeoffice", "home_office", None, None),
    ("coordinator", "Cora Coordinator", "csp_coordinator", "csp", "CAMCITY"),
    ("chair", "Chris Cspchair", "csp_chair", "csp", "CAMCITY"),
    ("other_coordinator", "Otto Othercoord", "csp_coordinator", "csp", "FENLAND"),
    ("other_chair", "Olive Otherchair", "csp_chair", "csp", "FENLAND"),
    ("panel_chair", "Penny Panelchair", None, None, None),
    ("panel_member", "Pat Panelmember", None, None, None),
    ("police_author", "Percy Policeauthor", "imr_author", "agency", "police"),
    ("police_manager", "Molly Policemanager", "agency_manager", "agency", "police"),
    ("health_author", "Hattie Healthauthor", "imr_author", "agency", "health"),
    ("health_manager", "Henry Healthmanager", "agency_manager", "agency", "health"),
    ("housing_author", "Harriet Housingauthor", "imr_author", "agency", "housing"),
    ("housing_manager", "Howard Housingmanager", "agency_manager", "agency", "housing"),
    ("probation_manager", "Prue Probationmanager", "agency_manager", "agency", "probation"),
]
AGENCIES = {
    "police": ("Exampleshire Constabulary", "police"),
    "health": ("Example NHS Foundation Trust", "health"),
    "housing": ("Example Homes Housing Association", "housing"),
    "probation": ("Example Probation Delivery Unit", "probation"),
}


def build_world() -> World:
    world = World()
    with session_scope() as session:
        for code, name in (("CAMCITY", "Cambridge City CSP"), ("FENLAND", "Fenland CSP")):
            csp = Csp(name=name, code=code, region="East of England")
            session.add(csp)
            session.flush()
            world.csps[code] = csp.id
        for key, (name, kind) in AGENCIES.items():
            agency = Agency(name=name, kind=kind, email=f"{key}@agency.example")
            session.add(agency)
            session.flush()
            world.agencies[key] = agency.id
        for key, name, role, scope, scope_key in USERS:
            user = User(email=f"{key}@dhr.example", name=name, password_hash=password_hash())
            if role:
                user.roles = [
                    UserRole(
                        role=role,
                        csp_id=world.csps[scope_key] if scope == "csp" else None,
                        agency_id=world.agencies[scope_key] if scope == "agency" else None,
                    )
                ]
            session.add(user)
            session.flush()
            token = new_token()
            session.add(ApiToken(user_id=user.id, token_hash=token_digest(token), expires_at=clock.now() + dt.timedelta(days=3650)))  # tests move the clock by years
            world.users[key] = Person(key=key, id=user.id, email=user.email, name=name, token=token)
    return world


class Api:
    """Calls the API as a named user: api.as_("chair").post("/reviews/...", json=...)."""

    def __init__(self, client, world: World):
        self.client = client
        self.world = world

    def as_(self, key: str | None) -> "As":
        return As(self.client, self.world.users[key].token if key else None)


class As:
    def __init__(self, client, token: str | None):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def request(self, method: str, path: str, **kwargs: Any):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.request(method, f"/api/v1{path}", headers=headers, **kwargs)

    def get(self, path: str, **kw):
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw):
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw):
        return self.request("PUT", path, **kw)

    def patch(self, path: str, **kw):
        return self.request("PATCH", path, **kw)


def ok(response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return response.json() if response.content else None
