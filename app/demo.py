"""`dhr demo`: a demonstration county with a dozen reviews at every stage.

Cambridgeshire's six partnerships (see the project's local context), invented agencies and invented
users, and reviews driven through the same code the API runs: the route functions are called in
process with each user's Principal, so access checks, workflow guards, effects, deadlines and the
history are all real. Each review's timeline is played on the shared clock (app.core.clock) at past
dates relative to today, in one transaction per review.

Every person here is invented, and the texts name people only by their pseudonyms ("Adult A"), so
the readiness check passes where the stage needs it.
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from fastapi import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.actions import api as actions_api
from app.actions.schemas import ActionEventIn, ActionIn
from app.audit import service as audit
from app.auth.access import Principal
from app.auth.models import User, UserRole
from app.auth.schemas import RoleIn
from app.auth.security import hash_password, password_problem
from app.auth.service import check_roles
from app.core import clock
from app.core.config import get_settings
from app.core.db import session_scope
from app.documents import api as documents_api
from app.documents.schemas import DocumentIn
from app.imrs import api as imrs_api
from app.imrs.schemas import ChronologyIn, ImrCommissionIn, ImrEventIn, ImrPatch
from app.overview import api as overview_api
from app.overview.schemas import OverviewPatch, RecommendationIn
from app.panel import api as panel_api
from app.panel.schemas import PanelMemberIn
from app.partnerships import api as partnerships_api
from app.partnerships.models import Csp
from app.partnerships.schemas import AgencyIn, CspIn
from app.people import api as people_api
from app.people.schemas import PersonIn
from app.proceedings import api as proceedings_api
from app.proceedings.schemas import ProceedingIn
from app.reviews import api as reviews_api
from app.reviews.models import Review
from app.reviews.schemas import EventIn, ReviewIn
from app.submissions import api as submissions_api
from app.submissions.schemas import QaChangeEventIn
from app.terms import api as terms_api
from app.terms.schemas import TermsIn

DEMO_PASSWORD = "dhr-demo-passphrase"
REGION = "East of England"
# How far back the set-up (partnerships, agencies, accounts) is dated: before the oldest review.
SETUP_DAYS_AGO = 700

CSPS = [
    ("CAMCITY", "Cambridge City Community Safety Partnership"),
    ("SOUTHCAMBS", "South Cambridgeshire Community Safety Partnership"),
    ("EASTCAMBS", "East Cambridgeshire Community Safety Partnership"),
    ("FENLAND", "Fenland Community Safety Partnership"),
    ("HUNTS", "Huntingdonshire Community Safety Partnership"),
    ("PBORO", "Safer Peterborough Partnership"),
]
CSP_PLACE = {
    "CAMCITY": "Cambridge City", "SOUTHCAMBS": "South Cambridgeshire", "EASTCAMBS": "East Cambridgeshire",
    "FENLAND": "Fenland", "HUNTS": "Huntingdonshire", "PBORO": "Peterborough",
}

# key: (name, kind, email). Invented organisations; example.org addresses.
AGENCIES = {
    "police": ("Cam Valley Constabulary", "police", "dhr.reviews@camvalley-police.example.org"),
    "hospitals": ("Ouse Valley Hospitals NHS Foundation Trust", "health", "safeguarding@ousevalley-hospitals.example.org"),
    "mental_health": ("Fens and Ouse Mental Health NHS Trust", "health", "safeguarding@fensouse-mentalhealth.example.org"),
    "adult_care": ("Cam Valley County Council Adult Social Care", "local_authority", "adult.safeguarding@camvalley-council.example.org"),
    "probation": ("East Fens Probation Delivery Unit", "probation", "pdu.east-fens@probation.example.org"),
    "housing": ("Willowbank Homes Housing Association", "housing", "tenancy.safeguarding@willowbank-homes.example.org"),
    "idva": ("Cam Valley IDVA Service", "voluntary", "referrals@camvalley-idva.example.org"),
    "womens_aid": ("Lantern Women's Aid (Fens)", "voluntary", "outreach@lantern-womensaid.example.org"),
    "school": ("Millfield Fen Primary School", "education", "office@millfield-fen-primary.example.org"),
}

# key: (email, name, description, roles as (role, scope key or None)). Everyone is invented.
USERS: list[tuple[str, str, str, str, list[tuple[str, str | None]]]] = [
    ("admin", "admin@example.org", "Ada Administrator", "administrator", [("admin", None)]),
    ("home_office", "homeoffice.qa@example.org", "Hamish Homeoffice", "Home Office QA reviewer (sees submitted reviews)", [("home_office", None)]),
    ("camcity_coordinator", "coordinator.camcity@example.org", "Cora Citycoordinator", "CSP coordinator, Cambridge City", [("csp_coordinator", "CAMCITY")]),
    ("camcity_chair", "chair.camcity@example.org", "Clement Citychair", "CSP chair, Cambridge City", [("csp_chair", "CAMCITY")]),
    ("fenland_coordinator", "coordinator.fenland@example.org", "Fern Fencoordinator", "CSP coordinator, Fenland", [("csp_coordinator", "FENLAND")]),
    ("fenland_chair", "chair.fenland@example.org", "Felix Fenchair", "CSP chair, Fenland", [("csp_chair", "FENLAND")]),
    ("county_coordinator", "coordinator.county@example.org", "Connie Countycoordinator",
     "CSP coordinator, South Cambs, East Cambs, Huntingdonshire and Peterborough (shared)",
     [("csp_coordinator", "SOUTHCAMBS"), ("csp_coordinator", "EASTCAMBS"), ("csp_coordinator", "HUNTS"), ("csp_coordinator", "PBORO")]),
    ("southeast_chair", "chair.south-east@example.org", "Sasha Southeastchair", "CSP chair, South Cambs and East Cambs",
     [("csp_chair", "SOUTHCAMBS"), ("csp_chair", "EASTCAMBS")]),
    ("huntspboro_chair", "chair.hunts-pboro@example.org", "Hector Huntschair", "CSP chair, Huntingdonshire and Peterborough",
     [("csp_chair", "HUNTS"), ("csp_chair", "PBORO")]),
    ("panel_chair", "panelchair@example.org", "Imogen Independentchair", "independent panel chair (on most panels)", []),
    ("panel_chair_2", "panelchair2@example.org", "Ivor Independentchair", "independent panel chair (on some panels)", []),
    ("panel_member", "panelmember@example.org", "Pam Panelmember", "panel member, for the IDVA service", []),
    ("police_author", "author.police@example.org", "Percy Policeauthor", "IMR author, Cam Valley Constabulary", [("imr_author", "police")]),
    ("police_manager", "manager.police@example.org", "Molly Policemanager", "agency manager, Cam Valley Constabulary", [("agency_manager", "police")]),
    ("hospitals_author", "author.hospitals@example.org", "Nia Nhsauthor", "IMR author, Ouse Valley Hospitals NHS FT", [("imr_author", "hospitals")]),
    ("hospitals_manager", "manager.hospitals@example.org", "Ned Nhsmanager", "agency manager, Ouse Valley Hospitals NHS FT", [("agency_manager", "hospitals")]),
    ("housing_author", "author.housing@example.org", "Harriet Housingauthor", "IMR author, Willowbank Homes", [("imr_author", "housing")]),
    ("housing_manager", "manager.housing@example.org", "Howard Housingmanager", "agency manager, Willowbank Homes", [("agency_manager", "housing")]),
    ("probation_manager", "manager.probation@example.org", "Prue Probationmanager", "agency manager, East Fens Probation", [("agency_manager", "probation")]),
]
CSP_STAFF = {
    "CAMCITY": ("camcity_coordinator", "camcity_chair"),
    "FENLAND": ("fenland_coordinator", "fenland_chair"),
    "SOUTHCAMBS": ("county_coordinator", "southeast_chair"),
    "EASTCAMBS": ("county_coordinator", "southeast_chair"),
    "HUNTS": ("county_coordinator", "huntspboro_chair"),
    "PBORO": ("county_coordinator", "huntspboro_chair"),
}
# Agencies whose IMRs the demo's users can write and quality-assure.
IMR_AUTHORS = {"police": "police_author", "hospitals": "hospitals_author", "housing": "housing_author"}
AGENCY_MANAGERS = {"police": "police_manager", "hospitals": "hospitals_manager", "housing": "housing_manager", "probation": "probation_manager"}


def load_demo(*, only_if_new: bool = False, echo: Callable[[str], None] = print) -> None:
    """Load the demonstration county. With only_if_new, do nothing when any user exists."""
    started = time.monotonic()
    with session_scope() as session:
        users = session.scalar(select(func.count()).select_from(User)) or 0
        clash = _existing_demo_data(session)
    if only_if_new and users:
        echo(f"Demo data already loaded: the database already has {users} user(s), so nothing was changed.")
        return
    if clash:
        echo(f"Demo data already loaded: the database already has {clash}, so nothing was changed. Use a new database to load it again.")
        return

    # "Today" is the real date, or DHR_CLOCK_TODAY when a demonstration fixes it (as `dhr serve` would).
    configured = get_settings().clock_today
    today = dt.date.fromisoformat(configured) if configured else clock.today()
    demo = _Demo(today=today, echo=echo)
    try:
        demo.set_up()
        cases = sorted(CASES, key=lambda c: -c.days_ago)
        for number, case in enumerate(cases, start=1):
            with session_scope() as session:
                driver = _Case(demo, session, case)
                case.play(driver)
                session.flush()
                if driver.review.state != case.target:
                    raise RuntimeError(f"demo case {case.csp} ended {driver.review.state}, not {case.target}: the workflow has changed")
                echo(f"Review {number}/{len(cases)}: {driver.review.reference} → {driver.review.state}")
    finally:
        clock.set_today(None)

    seconds = time.monotonic() - started
    echo(
        f"Demo data loaded in {seconds:.1f} s: {len(CSPS)} partnerships, {len(AGENCIES)} agencies, "
        f"{len(USERS)} users, {len(CASES)} reviews (every person in them is invented)."
    )
    echo(f"Sign in at {get_settings().base_url}/ (the API: {get_settings().base_url}/api/docs) with the password: {DEMO_PASSWORD}")
    width = max(len(u[1]) for u in USERS)
    for _key, email, name, description, _roles in USERS:
        echo(f"  {email.ljust(width)}  {name}, {description}")


def _existing_demo_data(session: Session) -> str | None:
    codes = set(session.scalars(select(Csp.code).where(Csp.code.in_([c for c, _ in CSPS]))))
    if codes:
        return "the demonstration partnerships (" + ", ".join(sorted(codes)) + ")"
    emails = set(session.scalars(select(User.email).where(User.email.in_([u[1] for u in USERS]))))
    if emails:
        return "the demonstration users (" + ", ".join(sorted(emails)) + ")"
    return None


# -- set-up: partnerships, agencies, users ---------------------------------------------------------

@dataclass
class _Demo:
    today: dt.date
    echo: Callable[[str], None]
    csps: dict[str, str] = field(default_factory=dict)  # code -> id
    agencies: dict[str, str] = field(default_factory=dict)  # key -> id
    users: dict[str, str] = field(default_factory=dict)  # key -> id

    def set_up(self) -> None:
        problem = password_problem(DEMO_PASSWORD)
        assert problem is None, problem
        password_hash = hash_password(DEMO_PASSWORD)  # once: argon2 is deliberately slow
        clock.set_today(self.today - dt.timedelta(days=SETUP_DAYS_AGO))

        with session_scope() as session:
            admin = self._user(session, "admin", password_hash, actor=None)
            self.echo("Creating the administrator... 1 done")
        with session_scope() as session:
            admin = Principal.of(session.get(User, admin.id))
            for code, name in CSPS:
                csp = partnerships_api.create_csp(body=CspIn(name=name, code=code, region=REGION), session=session, admin=admin)
                self.csps[code] = csp.id
            self.echo(f"Creating partnerships... {len(CSPS)} done")
        with session_scope() as session:
            admin = Principal.of(session.get(User, self.users["admin"]))
            for key, (name, kind, email) in AGENCIES.items():
                agency = partnerships_api.create_agency(body=AgencyIn(name=name, kind=kind, email=email), session=session, admin=admin)
                self.agencies[key] = agency.id
            self.echo(f"Creating agencies... {len(AGENCIES)} done")
        with session_scope() as session:
            admin_user = session.get(User, self.users["admin"])
            for key, *_rest in USERS:
                if key != "admin":
                    self._user(session, key, password_hash, actor=admin_user)
            self.echo(f"Creating users... {len(USERS)} done (all with the demo password)")

    def _user(self, session: Session, key: str, password_hash: str, actor: User | None) -> User:
        _key, email, name, _description, roles = next(u for u in USERS if u[0] == key)
        role_ins = [
            RoleIn(
                role=role,
                csp_id=self.csps[scope] if scope in self.csps else None,
                agency_id=self.agencies[scope] if scope in self.agencies else None,
            )
            for role, scope in roles
        ]
        check_roles(session, role_ins)
        # auth.service.create_user would hash the same password once per user; the hash is shared.
        user = User(email=email, name=name, password_hash=password_hash)
        user.roles = [UserRole(role=r.role, csp_id=r.csp_id, agency_id=r.agency_id) for r in role_ins]
        session.add(user)
        session.flush()
        audit.record(
            session, review=None, entity_type="user", entity_id=user.id, event="create_user", actor=actor,
            data={"roles": [r.model_dump() for r in role_ins], "demo": True},
        )
        self.users[key] = user.id
        return user


# -- one review, driven through the route functions as the people who do each step ---------------

@dataclass
class _Person:
    role: str
    name: str
    pseudonym: str
    relationship: str
    aliases: list[str] = field(default_factory=list)
    date_of_birth: dt.date | None = None
    address: str | None = None


@dataclass
class _Story:
    """What one invented case is about; the texts are written from it, with pseudonyms only."""

    csp: str
    days_ago: int  # notification date, counted back from today
    target: str
    victim_age: int
    relationship: str
    death_type: str
    notified_by: str
    summary: str
    people: list[_Person]
    perpetrator_phrase: str  # "her husband, Adult B"
    setting: str  # "at the home they shared"
    issue: str  # the key issue, one sentence
    lesson: str  # the main lesson, one sentence
    recommendations: list[tuple[str, str, list[tuple[str, str, int, str]]]] = field(default_factory=list)
    # (text, scope, [(action, lead agency key, target date in days after the plan is written, outcome measure)])
    panel_chair: str = "panel_chair"
    play: Callable[["_Case"], None] = lambda case: None


class _Case:
    def __init__(self, demo: _Demo, session: Session, story: _Story):
        self.demo = demo
        self.session = session
        self.story = story
        self.notified_on = demo.today - dt.timedelta(days=story.days_ago)
        self.coordinator, self.chair = CSP_STAFF[story.csp]
        self.panel_chair = story.panel_chair
        self.review: Review | None = None
        self.imrs: dict[str, str] = {}
        self.recs: list[str] = []
        self.actions: list[tuple[str, str]] = []  # (action id, lead agency key)
        self._principals: dict[str, Principal] = {}

    # -- basics ------------------------------------------------------------------------------------
    def at(self, day: int) -> dt.date:
        """Set the clock to `day` days after the notification (never after today)."""
        when = self.notified_on + dt.timedelta(days=day)
        if when > self.demo.today:
            raise ValueError(f"demo case {self.story.csp}: day {day} ({when}) is after today ({self.demo.today})")
        clock.set_today(when)
        return when

    def who(self, key: str) -> Principal:
        key = {"chair": self.chair, "coordinator": self.coordinator, "panel_chair": self.panel_chair}.get(key, key)
        if key not in self._principals:
            self._principals[key] = Principal.of(self.session.get(User, self.demo.users[key]))
        return self._principals[key]

    def date(self, day: int) -> str:
        """The date `day` days after the notification, written YYYY-MM-DD."""
        return (self.notified_on + dt.timedelta(days=day)).isoformat()

    def fire(self, day: int, who: str, event: str, note: str | None = None, **data: Any) -> None:
        self.at(day)
        reviews_api.fire_event(
            review_id=self.review.id, body=EventIn(event=event, data=data, note=note),
            session=self.session, principal=self.who(who),
        )

    # -- notification and decision -------------------------------------------------------------
    def notify(self) -> None:
        s = self.story
        self.at(0)
        out = reviews_api.create_review(
            body=ReviewIn(
                csp_id=self.demo.csps[s.csp], notified_on=self.notified_on, notified_by=s.notified_by,
                date_of_death=self.notified_on - dt.timedelta(days=4 + s.days_ago % 5), death_type=s.death_type,
                relationship=s.relationship, victim_age=s.victim_age, summary=s.summary,
            ),
            session=self.session, principal=self.who("coordinator"),
        )
        self.review = self.session.get(Review, out.id)

    def add_people(self, day: int, who: str = "coordinator") -> None:
        self.at(day)
        for p in self.story.people:
            people_api.add_person(
                review_id=self.review.id,
                body=PersonIn(role=p.role, name=p.name, pseudonym=p.pseudonym, aliases=p.aliases,
                              date_of_birth=p.date_of_birth, address=p.address, relationship=p.relationship),
                session=self.session, principal=self.who(who),
            )

    def decide(self, day: int = 12, **extra: Any) -> None:
        place = CSP_PLACE[self.story.csp]
        self.fire(day, "chair", "decide_to_review", rationale=(
            f"Adult A was aged {self.story.victim_age} and died following violence by {self.story.perpetrator_phrase}. "
            f"The death meets the definition in guidance 3.8 and Adult A normally lived in {place} (4.2)."
        ), **extra)
        self.fire(day + 2, "coordinator", "record_home_office_notified", sent_on=self.date(day + 1))

    # -- scoping ----------------------------------------------------------------------------------
    def appoint_panel(self, day: int = 18) -> None:
        self.at(day)
        for user, role, agency, statement in (
            (self.panel_chair, "chair", None, "I have never been employed by, or commissioned by, any agency involved in this case, and have no connection with the people in it."),
            ("panel_member", "member", "idva", None),
        ):
            panel_api.add_panel_member(
                review_id=self.review.id,
                body=PanelMemberIn(user_id=self.demo.users[user], role=role,
                                   agency_id=self.demo.agencies[agency] if agency else None, independence_statement=statement),
                session=self.session, principal=self.who("coordinator"),
            )

    def write_terms(self, day: int = 22, *, revision: str | None = None) -> None:
        self.at(day)
        s = self.story
        lines = [
            "What did each agency know of domestic abuse in the relationship between Adult A and Adult B?",
            "Were risk assessments (DASH) completed, shared and acted on, including referral to MARAC?",
            "Did agencies recognise coercive and controlling behaviour and economic abuse?",
            "How did Adult A's age, sex, health and circumstances affect access to services?",
        ]
        if s.death_type == "suicide":
            lines.append("Were risks of suicide linked to the domestic abuse Adult A experienced recognised and acted on?")
        if revision:
            lines.append(revision)
        terms_api.put_terms(
            review_id=self.review.id,
            body=TermsIn(
                period_from=self.notified_on - dt.timedelta(days=3 * 365), period_to=self.notified_on,
                key_lines_of_enquiry=lines, coercive_control=True, equality_and_diversity=True,
                suicide=s.death_type == "suicide",
                parallel_processes="The police investigation and criminal proceedings; HM Coroner's inquest (opened and adjourned).",
                family_involvement="The panel chair will write to Adult A's family, offer to meet them with an advocate, and share the draft report before it is finalised.",
                text=(
                    f"The review covers the three years before the death of Adult A. It examines the contact agencies had with Adult A "
                    f"and with {s.perpetrator_phrase}, {s.setting}, and what they could have done differently."
                ),
            ),
            session=self.session, principal=self.who("panel_chair"),
        )

    def scope(self, day: int = 16) -> None:
        self.add_people(day)
        self.appoint_panel(day + 2)
        self.write_terms(day + 6)
        self.fire(day + 10, "panel_chair", "agree_terms_of_reference")

    # -- IMRs -------------------------------------------------------------------------------------
    def commission(self, day: int, agencies: list[str]) -> None:
        self.at(day)
        for key in agencies:
            out = imrs_api.commission_imr(
                review_id=self.review.id, body=ImrCommissionIn(agency_id=self.demo.agencies[key]), response=Response(),
                session=self.session, principal=self.who("panel_chair"),
            )
            self.imrs[key] = out.id

    def imr_event(self, day: int, who: str, agency: str, event: str, **data: Any) -> None:
        self.at(day)
        imrs_api.fire_imr_event(
            imr_id=self.imrs[agency], body=ImrEventIn(event=event, data=data), response=Response(),
            session=self.session, principal=self.who(who),
        )

    def acknowledge(self, day: int, agency: str) -> None:
        author = IMR_AUTHORS[agency]
        self.imr_event(day, author, agency, "acknowledge", author_name=self.who(author).user.name,
                       author_role="Review officer, not involved in the case", independence_confirmed=True)

    def write_imr(self, day: int, agency: str) -> None:
        self.at(day)
        author = self.who(IMR_AUTHORS[agency])
        imr = imrs_api.get_imr(imr_id=self.imrs[agency], response=Response(), session=self.session, principal=author)
        name = AGENCIES[agency][0]
        imrs_api.edit_imr(
            imr_id=self.imrs[agency],
            body=ImrPatch(
                methodology=f"Records held by {name} for the review period were searched; the two practitioners with most contact were interviewed.",
                parallel_processes="None within the agency; the agency supplied statements to the police investigation.",
                analysis=f"Contact with Adult A was courteous and timely, but {self.story.issue[0].lower() + self.story.issue[1:]}",
                effective_practice="Staff recorded what Adult A said in her own words, which helped this review.",
                lessons=self.story.lesson,
            ),
            response=Response(), session=self.session, principal=author, if_match=f'"{imr.version}"',
        )
        for months_before, description, seen, staff in (
            (14, "Adult A attended an appointment alone; she mentioned arguments at home and was given a helpline card.", ["Adult A"], "Practitioner 1"),
            (5, "Adult B telephoned to cancel Adult A's appointment on her behalf; the call was not queried.", ["Adult B"], "Administrator 2"),
        ):
            imrs_api.add_chronology_entry(
                imr_id=self.imrs[agency],
                body=ChronologyIn(
                    occurred_on=self.notified_on - dt.timedelta(days=30 * months_before + 7 * len(self.imrs)),
                    description=f"{name}: {description}", seen=seen,
                    views_expressed="Adult A said she was managing." if "Adult A" in seen else "",
                    staff=staff, interviewed=True,
                ),
                session=self.session, principal=author,
            )

    def complete_imrs(self, start: int, agencies: list[str]) -> int:
        """Authors acknowledge, write and send; each agency's manager quality-assures; the panel chair
        accepts. Step by step across the agencies, so the history stays in date order. Returns the
        day of the last acceptance."""
        steps: list[tuple[int, Callable[[int, str], None]]] = [
            (0, self.acknowledge),
            (10, self.write_imr),
            (24, lambda day, agency: self.imr_event(day, IMR_AUTHORS[agency], agency, "send_for_agency_review")),
            (30, lambda day, agency: self.imr_event(day, AGENCY_MANAGERS[agency], agency, "quality_assure")),
            (36, lambda day, agency: self.imr_event(day, "panel_chair", agency, "accept")),
        ]
        for offset, step in steps:
            for i, agency in enumerate(agencies):
                step(start + offset + 2 * i, agency)
        return start + 36 + 2 * (len(agencies) - 1)

    def no_involvement(self, day: int, agency: str) -> None:
        self.imr_event(day, AGENCY_MANAGERS[agency], agency, "declare_no_involvement",
                       statement=f"{AGENCIES[agency][0]} searched its case records and holds no record of contact with Adult A or Adult B in the review period.")

    def gather(self, day: int = 27, agencies: tuple[str, ...] = ("police", "hospitals", "housing"), none: tuple[str, ...] = ("probation",)) -> int:
        """Commission IMRs, have them written and accepted, and begin drafting. Returns the day drafting began."""
        self.commission(day, [*agencies, *none])
        for agency in none:
            self.no_involvement(day + 4, agency)
        accepted = self.complete_imrs(day + 6, list(agencies))
        begin = accepted + 7
        self.fire(begin, "panel_chair", "begin_drafting")
        return begin

    # -- the Overview Report and the action plan --------------------------------------------------
    def overview_sections(self) -> dict:
        s = self.story
        died = self.review.date_of_death.strftime("%B %Y")
        return {
            "introduction": (
                f"This review examines the contact that agencies in {CSP_PLACE[s.csp]} had with Adult A, aged {s.victim_age}, "
                f"and with {s.perpetrator_phrase}, in the three years before Adult A died in {died}."
            ),
            "facts": f"Adult A died {s.setting} in {died}. {s.summary}",
            "analysis": (
                f"{s.issue} Each agency's IMR was tested against the terms of reference; the panel found that information "
                "held separately by agencies was not brought together, so nobody saw the whole picture of the risk."
            ),
            "equality_and_diversity": (
                "The panel considered all nine protected characteristics. Adult A's sex is relevant: domestic homicide "
                "is overwhelmingly experienced by women. Age, disability and economic dependency were also considered."
            ),
            "family_contribution": "Adult A's family met the panel chair twice, with an advocate, and their account of Adult A's life is in the report.",
            "key_issues": f"{s.issue} Recognising coercive control; sharing information between agencies; routine enquiry.",
            "conclusions": "The death could not have been predicted from what any one agency knew, but the risk to Adult A was under-recognised.",
            "lessons": s.lesson,
            "dissemination": [
                "Members of the review panel", "The Community Safety Partnership board", "Adult A's family",
                "The Home Office Quality Assurance Panel", "The Domestic Abuse Commissioner",
            ],
        }

    def record_proceeding(self, day: int, **body: Any) -> None:
        self.at(day)
        proceedings_api.record_proceeding(review_id=self.review.id, body=ProceedingIn(**body), response=Response(),
                                          session=self.session, principal=self.who("coordinator"))

    def mark_qa_changes_made(self, day: int, *hows: str) -> None:
        """Each change the QA panel asked for, marked made in order, saying how (11.3)."""
        self.at(day)
        changes = submissions_api.list_qa_changes(review_id=self.review.id, session=self.session, principal=self.who("chair"))["items"]
        for change, how in zip([c for c in changes if not c.made], hows, strict=True):
            submissions_api.qa_change_event(change_id=change.id, body=QaChangeEventIn(event="made", text=how),
                                            session=self.session, principal=self.who("coordinator"))

    def write_overview(self, day: int, sections: dict | None = None) -> None:
        self.at(day)
        chair = self.who("panel_chair")
        current = overview_api.get_overview(review_id=self.review.id, response=Response(), session=self.session, principal=chair)
        overview_api.edit_overview(
            review_id=self.review.id, body=OverviewPatch(**(sections if sections is not None else self.overview_sections())),
            response=Response(), session=self.session, principal=chair, if_match=f'"{current.version}"',
        )

    def plan(self, day: int, *, with_actions: bool = True) -> None:
        """The recommendations, each with SMART actions (the first from the police IMR, if any)."""
        self.at(day)
        chair = self.who("panel_chair")
        for i, (text, scope, actions) in enumerate(self.story.recommendations):
            rec = overview_api.add_recommendation(
                review_id=self.review.id,
                body=RecommendationIn(text=text, scope=scope, imr_id=self.imrs.get("police") if i == 0 else None),
                session=self.session, principal=chair,
            )
            self.recs.append(rec.id)
            if not with_actions:
                continue
            for action, lead, days, measure in actions:
                out = actions_api.add_action(
                    recommendation_id=rec.id,
                    body=ActionIn(action=action, lead_agency_id=self.demo.agencies[lead], target_date=clock.today() + dt.timedelta(days=days),
                                  outcome_measure=measure, milestones="Plan agreed with the lead agency; progress reported quarterly to the CSP board."),
                    response=Response(), session=self.session, principal=chair,
                )
                self.actions.append((out.id, lead))

    def draft(self, begin: int) -> int:
        """Write the overview and the action plan, and present them. Returns the day presented."""
        self.write_overview(begin + 25)
        self.plan(begin + 30)
        self.fire(begin + 35, "panel_chair", "present_overview")
        return begin + 35

    def action_event(self, day: int, index: int, event: str, **data: Any) -> None:
        action_id, lead = self.actions[index]
        who = AGENCY_MANAGERS.get(lead, "coordinator")
        self.at(day)
        actions_api.fire_action_event(
            action_id=action_id, body=ActionEventIn(event=event, data=data), response=Response(),
            session=self.session, principal=self.who(who),
        )

    def complete_action(self, day: int, index: int, outcome: str) -> None:
        self.action_event(day, index, "complete", completed_on=(self.notified_on + dt.timedelta(days=day)).isoformat(), outcome=outcome)

    # -- the main path, as far as a stage ---------------------------------------------------------
    def to_signoff(self, *, response: str = "agreed", disagreements: str | None = None, family_day: int | None = None) -> int:
        """Notification to CSP sign-off on a timetable within the statutory six months. Returns the sign-off day."""
        self.notify()
        self.decide(12)
        self.scope(16)
        begin = self.gather(27)
        presented = self.draft(begin)
        self.fire(presented + 12, "panel_chair", "approve_overview")
        family_day = family_day or presented + 28
        data = {"shared_on": (self.notified_on + dt.timedelta(days=family_day - 7)).isoformat()} if response in ("agreed", "disagreed") else {}
        if disagreements:
            data["disagreements"] = disagreements
        self.fire(family_day, "panel_chair", "record_family_response", response=response, **data)
        self.make_reports(family_day)
        return family_day

    def make_reports(self, day: int) -> None:
        """The reports the CSP signs off, restricted and for publication (Appendices 3-5)."""
        self.at(day)
        for kind in ("overview_report", "executive_summary", "action_plan"):
            for variant in ("restricted", "publication"):
                documents_api.generate_document(
                    review_id=self.review.id, body=DocumentIn(kind=kind, variant=variant),
                    session=self.session, principal=self.who("panel_chair"),
                )


# -- the cases ------------------------------------------------------------------------------------

def _concluded(c: _Case) -> None:
    signoff = c.to_signoff()
    c.fire(signoff + 14, "chair", "submit", note="Signed off at the CSP board.")
    c.fire(signoff + 70, "home_office", "qa_clear", received_on=c.date(signoff + 68), letter="QA panel letter: the report is cleared for publication.")
    c.fire(signoff + 95, "chair", "publish", url="https://www.example.org/community-safety/dhr/adult-a")
    for i, _ in enumerate(c.actions):
        c.complete_action(signoff + 102 + 10 * i, i, "Completed and evidenced to the CSP board; an audit sample showed the new practice in use.")
    c.fire(signoff + 190, "chair", "conclude", audit_note="The CSP board audited every action's evidence at its quarterly meeting and closed the action plan.")


def _published(c: _Case) -> None:
    signoff = c.to_signoff()
    c.record_proceeding(signoff + 2, kind="criminal_trial", description="Trial at the Crown Court", status="concluded",
                        concluded_on=c.date(signoff - 30), outcome="Adult B was convicted of murder.")
    c.fire(signoff + 10, "chair", "submit")
    c.fire(signoff + 60, "home_office", "qa_clear", received_on=c.date(signoff + 58), letter="QA panel letter ref QA-PUB-2.")
    c.fire(signoff + 80, "chair", "publish", url="https://www.example.org/community-safety/dhr/published-review")
    c.complete_action(signoff + 120, 0, "Training delivered to all response teams; attendance 94%.")
    c.action_event(signoff + 130, 1, "start")
    # The second action is in progress past its target date (overdue); the third is not yet due.


def _cleared(c: _Case) -> None:
    signoff = c.to_signoff()
    c.record_proceeding(signoff + 5, kind="inquest", description="HM Coroner's inquest, opened and adjourned until after the review")
    c.fire(signoff + 10, "chair", "submit")
    c.fire(signoff + 55, "home_office", "qa_clear_subject_to_changes", received_on=c.date(signoff + 53),
           changes=["Strengthen the equality and diversity section on Adult A's age and disability.",
                    "Say how carers' assessments were offered to the household."])
    sections = c.overview_sections()
    sections["equality_and_diversity"] += (
        " Adult A was an older woman with limited mobility: the panel found that services offered to her were shaped around "
        "her carer rather than her, and that no carer's assessment was offered to the household."
    )
    c.write_overview(signoff + 62, sections)
    c.mark_qa_changes_made(signoff + 64, "Equality and diversity section rewritten on age and disability (section 5).",
                           "Section 5 now says that no carer's assessment was offered, and why.")
    c.fire(signoff + 70, "chair", "confirm_changes_made", summary="The equality and diversity section now addresses age, disability and carers' assessments.")


def _submitted(c: _Case) -> None:
    signoff = c.to_signoff()
    c.fire(signoff + 10, "chair", "submit")
    c.action_event(signoff + 20, 0, "start")
    c.fire(signoff + 50, "home_office", "qa_require_resubmission", received_on=c.date(signoff + 48),
           feedback="The analysis does not explain why the housing association's reports of noise were not linked to the police call-outs.")
    sections = c.overview_sections()
    sections["analysis"] += (
        " The housing association's three noise reports and the two police call-outs were never connected because "
        "neither agency asked the other; the panel sets out what each knew and when."
    )
    c.write_overview(signoff + 65, sections)
    c.fire(signoff + 80, "chair", "resubmit", summary="Analysis revised to connect the housing reports with the police call-outs.")


def _signoff_family_disagreed(c: _Case) -> None:
    c.to_signoff(
        response="disagreed", family_day=200,
        disagreements="The family believe Adult A's GP surgery should have asked her directly about abuse; the report records their view alongside the panel's.",
    )


def _panel_review_extended(c: _Case) -> None:
    c.notify()
    c.decide(12)
    c.scope(16)
    c.commission(27, ["police", "hospitals", "housing", "probation"])
    c.no_involvement(35, "probation")
    c.complete_imrs(40, ["police", "hospitals"])
    c.complete_imrs(100, ["housing"])  # seven weeks late
    c.fire(150, "panel_chair", "begin_drafting")
    c.write_overview(170)
    c.plan(175)
    c.fire(180, "panel_chair", "present_overview")
    c.fire(185, "chair", "agree_extension", deadline="overview_report", new_due_on=(c.demo.today + dt.timedelta(days=30)).isoformat(),
           reason="The housing association's IMR arrived seven weeks late and the panel asked for more work on the mental health contact; the CSP agreed ten more weeks (6.4).")
    c.fire(200, "panel_chair", "request_changes", reason="Set out what the mental health trust knew of the abuse before Adult A's last assessment.")
    c.write_overview(215)
    c.fire(225, "panel_chair", "present_overview")


def _drafting(c: _Case) -> None:
    c.notify()
    c.decide(10)
    c.scope(14)
    c.commission(25, ["police", "hospitals", "probation"])
    c.no_involvement(28, "probation")
    c.complete_imrs(30, ["police", "hospitals"])
    c.fire(90, "panel_chair", "begin_drafting")
    partial = {k: v for k, v in c.overview_sections().items() if k in ("introduction", "facts")}
    c.write_overview(120, partial)
    c.plan(130, with_actions=False)


def _pended(c: _Case) -> None:
    c.notify()
    c.decide(12)
    c.scope(16)
    c.commission(27, ["police", "hospitals"])
    c.acknowledge(35, "police")
    c.fire(84, "coordinator", "record_criminal_proceedings", status="open")
    c.fire(85, "chair", "pend", reason="Adult B's trial is listed at the Crown Court; the police asked that witnesses are not interviewed before the verdict (6.5-6.8).",
           expected_resume_on=(c.demo.today + dt.timedelta(days=45)).isoformat())
    c.fire(90, "chair", "agree_extension", deadline="overview_report", new_due_on=(c.demo.today + dt.timedelta(days=150)).isoformat(),
           reason="The review is pended until the criminal trial ends; the CSP extended the Overview Report by the length of the pause.")
    for agency in ("police", "hospitals"):
        c.fire(90, "chair", "agree_extension", deadline="imr", subject_id=c.imrs[agency],
               new_due_on=(c.demo.today + dt.timedelta(days=90)).isoformat(), reason="IMR work waits for the end of the criminal trial.")


def _evidence(c: _Case) -> None:
    c.notify()
    c.decide(11)
    c.scope(16)
    c.commission(27, ["police", "hospitals", "housing", "probation"])
    c.acknowledge(30, "police")
    c.acknowledge(35, "hospitals")
    c.write_imr(40, "police")
    c.write_imr(45, "hospitals")
    c.imr_event(54, "police_author", "police", "send_for_agency_review")
    c.imr_event(55, "hospitals_author", "hospitals", "send_for_agency_review")
    c.imr_event(60, "police_manager", "police", "quality_assure")
    c.imr_event(62, "hospitals_manager", "hospitals", "quality_assure")
    c.imr_event(66, "panel_chair", "police", "accept")
    c.imr_event(72, "panel_chair", "hospitals", "return",
                reason="The chronology omits Adult A's two emergency department attendances in the review period: add them and analyse the triage decisions.")
    c.fire(75, "chair", "agree_extension", deadline="imr", subject_id=c.imrs["hospitals"],
           new_due_on=(c.demo.today + dt.timedelta(days=14)).isoformat(), reason="The IMR was returned for more work on the emergency department attendances.")
    c.acknowledge(76, "housing")
    c.write_imr(78, "housing")
    c.imr_event(80, "housing_author", "housing", "send_for_agency_review")
    # Probation has not started: its IMR is overdue.


def _scoping(c: _Case) -> None:
    c.notify()
    c.decide(9, child_review_considered=True)
    c.add_people(12)
    c.appoint_panel(14)
    c.write_terms(18)
    c.write_terms(20, revision="How did children's and adults' services share information as Adult A turned 17?")


def _notified(c: _Case) -> None:
    c.notify()
    c.add_people(2)


def _not_reviewed(c: _Case) -> None:
    c.notify()
    c.add_people(3)
    c.fire(15, "chair", "decide_not_to_review", rationale=(
        "The post-mortem found that Adult A died of natural causes and there is no evidence of violence, abuse or neglect "
        "by a relative, partner or member of the household: the definition in guidance 3.8 is not met. The Safeguarding "
        "Adults Board was told, to consider a Safeguarding Adults Review."
    ))
    c.fire(17, "coordinator", "record_home_office_notified", sent_on=c.date(16))


def _p(role: str, name: str, pseudonym: str, relationship: str, **kw: Any) -> _Person:
    return _Person(role=role, name=name, pseudonym=pseudonym, relationship=relationship, **kw)


_TRAINING = ("Train front-line staff in routine enquiry about coercive control.", "local",
             [("Deliver coercive control training to all response officers.", "police", 240, "90% of response officers trained within eight months."),
              ("Add routine enquiry to emergency department triage.", "hospitals", 365, "Audit shows routine enquiry recorded in 80% of eligible attendances.")])
_SHARING = ("Share information about repeat incidents across agencies through MARAC.", "regional",
            [("Refer every third incident in twelve months to MARAC.", "police", 180, "Quarterly audit shows all qualifying cases referred."),
             ("Flag tenancies with repeat domestic abuse reports to the IDVA service.", "housing", 300, "Flagging in place; referrals counted quarterly.")])
_STALKING = ("Treat separation and stalking as escalating risk.", "local",
             [("Brief officers on stalking after separation.", "police", 180, "Briefing delivered to every team; attendance recorded."),
              ("Offer IDVA support at first report of post-separation stalking.", "idva", 365, "Referral pathway live; uptake reported quarterly."),
              ("Publish a stalking advice leaflet with the housing association.", "housing", 420, "Leaflet issued to all tenants.")])

CASES: list[_Story] = [
    _Story(
        csp="CAMCITY", days_ago=640, target="concluded", victim_age=42, relationship="intimate_partner", death_type="homicide",
        notified_by="Cam Valley Constabulary, Major Crime Unit",
        summary="Adult A was killed by her husband, Adult B, after years of controlling behaviour that was known in part to health services.",
        people=[
            _p("victim", "Marigold Quillfeather", "Adult A", "victim", aliases=["Goldie"], date_of_birth=dt.date(1982, 7, 14), address="14 Larkspur Mews, Cambridge CB99 1AA"),
            _p("perpetrator", "Ptolemy Quillfeather", "Adult B", "husband"),
            _p("family", "Clementine Ashbury-Vane", "Adult C", "sister"),
        ],
        perpetrator_phrase="her husband, Adult B", setting="at the home she shared with Adult B",
        issue="Repeat emergency department attendances with unexplained injuries were not linked to domestic abuse.",
        lesson="Routine enquiry about coercive control should be part of every emergency department attendance with an unexplained injury.",
        recommendations=[_TRAINING, _SHARING], play=_concluded,
    ),
    _Story(
        csp="HUNTS", days_ago=520, target="published", victim_age=58, relationship="ex_partner", death_type="homicide",
        notified_by="Cam Valley Constabulary",
        summary="Adult A was killed by her former partner, Adult B, eight months after she ended the relationship; he had followed her repeatedly.",
        people=[
            _p("victim", "Persephone Wrenfield", "Adult A", "victim", date_of_birth=dt.date(1967, 2, 3), address="3 Heronsgate Row, Huntingdon PE99 2BB"),
            _p("perpetrator", "Lysander Crowhurst", "Adult B", "former partner"),
            _p("family", "Octavia Wrenfield", "Adult C", "daughter"),
        ],
        perpetrator_phrase="her former partner, Adult B", setting="near her new home",
        issue="Reports of Adult B following Adult A after separation were each recorded as a single incident, not as stalking.",
        lesson="Separation and stalking should raise the assessed risk, and each new report should be read with the earlier ones.",
        recommendations=[_STALKING], play=_published,
    ),
    _Story(
        csp="SOUTHCAMBS", days_ago=345, target="cleared", victim_age=71, relationship="family_member", death_type="homicide",
        notified_by="Cam Valley Constabulary",
        summary="Adult A, an older woman with limited mobility, was killed by her adult son, Adult B, who was also her carer.",
        people=[
            _p("victim", "Ottilie Brackenridge", "Adult A", "victim", date_of_birth=dt.date(1954, 11, 30), address="Bramble Cottage, 2 Fenwick Lane, Demoton CB99 3CC"),
            _p("perpetrator", "Ambrose Brackenridge", "Adult B", "son and carer"),
        ],
        perpetrator_phrase="her son and carer, Adult B", setting="at her home",
        issue="Adult B's own needs as a carer, and his growing hostility, were not assessed by the services that visited.",
        lesson="Where a relative is the carer, agencies should ask the cared-for person alone about abuse and offer the carer an assessment.",
        recommendations=[_TRAINING], play=_cleared,
    ),
    _Story(
        csp="PBORO", days_ago=300, target="submitted", victim_age=29, relationship="intimate_partner", death_type="homicide",
        notified_by="Cam Valley Constabulary",
        summary="Adult A was killed by her partner, Adult B; neighbours had reported noise and the police had attended twice.",
        people=[
            _p("victim", "Wilhelmina Thistlecombe", "Adult A", "victim", aliases=["Mina"], date_of_birth=dt.date(1996, 5, 21), address="Flat 6, 40 Quayside Court, Peterborough PE98 4DD"),
            _p("perpetrator", "Caspian Dunmorrow", "Adult B", "partner"),
            _p("child", "Juniper Thistlecombe", "Child D", "daughter, aged 4"),
        ],
        perpetrator_phrase="her partner, Adult B", setting="in their flat",
        issue="Police call-outs and the housing association's noise reports were never connected.",
        lesson="Housing providers and the police should share reports that may indicate domestic abuse at the same address.",
        recommendations=[_SHARING], play=_submitted,
    ),
    _Story(
        csp="EASTCAMBS", days_ago=235, target="panel_review", victim_age=24, relationship="intimate_partner", death_type="suicide",
        notified_by="Fens and Ouse Mental Health NHS Trust",
        summary="Adult A took her own life after a long period of controlling behaviour by her partner, Adult B.",
        people=[
            _p("victim", "Honoria Pemberfield", "Adult A", "victim", date_of_birth=dt.date(2001, 9, 9), address="7 Sedgemoor Close, Ely CB97 5EE"),
            _p("perpetrator", "Leopold Grimsditch", "Adult B", "partner"),
        ],
        perpetrator_phrase="her partner, Adult B", setting="at her home",
        issue="The link between the abuse Adult A experienced and her thoughts of suicide was not explored at her assessments.",
        lesson="Mental health assessments should ask about domestic abuse, and domestic abuse services should ask about suicidal thoughts.",
        recommendations=[_TRAINING], panel_chair="panel_chair_2", play=_panel_review_extended,
    ),
    _Story(
        csp="CAMCITY", days_ago=230, target="csp_signoff", victim_age=36, relationship="intimate_partner", death_type="homicide",
        notified_by="Cam Valley Constabulary",
        summary="Adult A was killed by her partner, Adult B, who had a history of violence towards a previous partner.",
        people=[
            _p("victim", "Araminta Fogwell", "Adult A", "victim", date_of_birth=dt.date(1989, 12, 1), address="22 Cobble Yard, Cambridge CB96 6FF"),
            _p("perpetrator", "Barnabas Quinceworth", "Adult B", "partner"),
            _p("family", "Tobias Fogwell", "Adult C", "brother"),
        ],
        perpetrator_phrase="her partner, Adult B", setting="at their home",
        issue="Adult B's history of violence towards a previous partner was known to probation but not disclosed to Adult A.",
        lesson="Agencies should consider a disclosure under the Domestic Violence Disclosure Scheme when they learn of a new relationship.",
        recommendations=[_SHARING], play=_signoff_family_disagreed,
    ),
    _Story(
        csp="EASTCAMBS", days_ago=205, target="pended", victim_age=51, relationship="intimate_partner", death_type="homicide",
        notified_by="Cam Valley Constabulary",
        summary="Adult A was killed at home; her husband, Adult B, has been charged with her murder and awaits trial.",
        people=[
            _p("victim", "Seraphina Nettlebed", "Adult A", "victim", date_of_birth=dt.date(1974, 4, 18), address="Willow Barn, Soham Drove, Demoton CB95 7GG"),
            _p("perpetrator", "Cornelius Ravenscar", "Adult B", "husband"),
        ],
        perpetrator_phrase="her husband, Adult B", setting="at home",
        issue="Adult A's disclosures to her employer were not passed to any agency.",
        lesson="Employers can be a route to support; the partnership should promote workplace domestic abuse policies.",
        play=_pended,
    ),
    _Story(
        csp="FENLAND", days_ago=165, target="drafting", victim_age=47, relationship="ex_partner", death_type="homicide",
        notified_by="Cam Valley Constabulary",
        summary="Adult A was killed by her former partner, Adult B, shortly after he was released from prison.",
        people=[
            _p("victim", "Isolde Marchbanks", "Adult A", "victim", date_of_birth=dt.date(1978, 8, 2), address="9 Dykeside Terrace, Wisbech PE97 8HH"),
            _p("perpetrator", "Fitzwilliam Oddington", "Adult B", "former partner"),
        ],
        perpetrator_phrase="her former partner, Adult B", setting="at her home",
        issue="Adult A was not told that Adult B had been released, and no safety plan was made with her.",
        lesson="Victims should be told about a perpetrator's release and offered safety planning before it happens.",
        recommendations=[_STALKING], play=_drafting,
    ),
    _Story(
        csp="CAMCITY", days_ago=120, target="evidence", victim_age=33, relationship="intimate_partner", death_type="homicide",
        notified_by="Cam Valley Constabulary",
        summary="Adult A was killed by her partner, Adult B; she had attended the emergency department twice in the year before.",
        people=[
            _p("victim", "Evangeline Puddifoot", "Adult A", "victim", date_of_birth=dt.date(1992, 3, 27), address="51 Tannery Walk, Cambridge CB94 9JJ"),
            _p("perpetrator", "Thaddeus Quinceworth-Lowe", "Adult B", "partner"),
        ],
        perpetrator_phrase="her partner, Adult B", setting="at their flat",
        issue="Injuries seen at two emergency department attendances were not explored with Adult A alone.",
        lesson="Patients with unexplained injuries should be seen alone and asked about abuse.",
        panel_chair="panel_chair_2", play=_evidence,
    ),
    _Story(
        csp="SOUTHCAMBS", days_ago=70, target="not_reviewed", victim_age=81, relationship="household_member", death_type="other",
        notified_by="Cam Valley Constabulary, via the coroner's officer",
        summary="Adult A died in supported housing after a fall; a co-resident had earlier been reported for verbal aggression towards her.",
        people=[_p("victim", "Rosabel Cranmoor", "Adult A", "victim", date_of_birth=dt.date(1945, 1, 12))],
        perpetrator_phrase="a co-resident, Adult B", setting="in supported housing",
        issue="", lesson="", play=_not_reviewed,
    ),
    _Story(
        csp="PBORO", days_ago=45, target="notified", victim_age=39, relationship="intimate_partner", death_type="homicide",
        notified_by="Cam Valley Constabulary",
        summary="Adult A was found dead at home; her partner, Adult B, has been arrested. The decision is overdue.",
        people=[_p("victim", "Philippa Gorsefield", "Adult A", "victim"), _p("perpetrator", "Evander Slopewick", "Adult B", "partner")],
        perpetrator_phrase="her partner, Adult B", setting="at home", issue="", lesson="", play=_notified,
    ),
    _Story(
        csp="HUNTS", days_ago=26, target="scoping", victim_age=17, relationship="ex_partner", death_type="homicide",
        notified_by="Cam Valley Constabulary",
        summary="Adult A, aged 17, was killed by her former boyfriend, Adult B, aged 19. A child safeguarding practice review was considered.",
        people=[
            _p("victim", "Marguerite Tillingham", "Adult A", "victim", date_of_birth=dt.date(2009, 6, 6)),
            _p("perpetrator", "Percival Harrowgate", "Adult B", "former boyfriend"),
            _p("family", "Delphine Tillingham", "Adult C", "mother"),
        ],
        perpetrator_phrase="her former boyfriend, Adult B", setting="near her family home",
        issue="", lesson="", play=_scoping,
    ),
    _Story(
        csp="FENLAND", days_ago=22, target="notified", victim_age=64, relationship="intimate_partner", death_type="homicide",
        notified_by="Cam Valley Constabulary",
        summary="Adult A died in hospital after an assault at home; her husband, Adult B, has been charged. The decision is due within days.",
        people=[_p("victim", "Winifred Alderbeck", "Adult A", "victim"), _p("perpetrator", "Horatio Alderbeck", "Adult B", "husband")],
        perpetrator_phrase="her husband, Adult B", setting="at home", issue="", lesson="", play=_notified,
    ),
]
