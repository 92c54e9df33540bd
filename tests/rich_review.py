"""A rich invented review for the document tests: twelve agencies, over a hundred chronology entries,
eleven recommendations with twenty actions, a full overview and an extended deadline.

The review is driven to "drafting" over HTTP (tests/journey.py: police and health IMRs accepted), then
filled in directly with the ORM, which is fast and is all a rendering test needs. Everything here is
invented. The text deliberately carries "&", "<", apostrophes and accents, the victim's real name,
alias, address and postcode (which the publication variant must pseudonymise), a staff name (which it
must drop), and canary strings in one IMR's own narrative (which no report may quote).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from app.actions.models import Action
from app.core.db import session_scope
from app.imrs.models import ChronologyEntry, Imr
from app.overview.models import Overview, Recommendation
from app.partnerships.models import Agency
from app.people.models import Person
from tests.journey import Journey
from tests.support import Api, World, ok

SMITH = "Smith & Sons Lettings"
CAFE = "Café Nouvelle <Support> Ltd"
STAFF_NAME = "PC Ray Example"
VICTIM_ETHNICITY = "White – Irish"
PERPETRATOR_ETHNICITY = "White British"
VICTIM_RELATIONSHIP = "Former partner of Bartholomew Quince"

# (name, kind, state, chronology entries). Accepted ones are quoted in the overview's chronology;
# the agency_review one is not yet (guidance 8.8); in_progress is an empty IMR, pre-filled for its author.
EXTRA_AGENCIES = [
    (SMITH, "housing_provider", "accepted", 17),
    (CAFE, "voluntary", "accepted", 17),
    ("Example County Council Adult Social Care", "social_care", "accepted", 17),
    ("Example Independent Domestic Violence Advisers", "idva", "accepted", 17),
    ("Example GP Federation", "health", "accepted", 17),
    ("Example Ambulance Service", "health", "accepted", 17),
    ("Example Fire and Rescue Service", "fire", "no_involvement", 0),
    ("Example Schools Trust", "education", "no_involvement", 0),
    ("Example Mental Health Partnership", "health", "agency_review", 3),
    ("Example Drug and Alcohol Service", "substance_misuse", "in_progress", 0),
]
NO_CONTACT = ["Example Fire and Rescue Service", "Example Schools Trust"]
DRAFT_WITH_ENTRIES = "Example Mental Health Partnership"
PREFILLED = "Example Drug and Alcohol Service"

# Planted in the SMITH IMR's own narrative: an IMR is never published (9.1) and the overview quotes
# only its chronology, so none of these may reach any report; all must be in that IMR's document.
CANARIES = {
    "analysis": "CANARY-IMR-ANALYSIS-7731",
    "methodology": "CANARY-IMR-METHOD-7732",
    "lessons": "CANARY-IMR-LESSONS-7733",
    "effective_practice": "CANARY-IMR-PRACTICE-7734",
    "author_name": "CANARY-IMR-AUTHOR-7735",
    "author_role": "CANARY-IMR-ROLE-7736",
    "parallel_processes": "CANARY-IMR-PARALLEL-7737",
}
DRAFT_CANARY = "CANARY-DRAFT-CHRONOLOGY-4410"

DESCRIPTIONS = [
    "Zoë O'Brien-Smith told PC O'Neill & a colleague that she was frightened of Bartholomew Quince.",
    "DASH risk score < 10 & rising; Adult A gave consent <verbally> to a referral.",
    "Home visit to 12 Acacia Avenue, Exampletown EX1 2AB; Zed was not at home.",
    "Zoe attended the drop-in; Mr O'Neill's referral was discussed with her.",
    "Adult B called about the tenancy & rent arrears at EX1 2AB.",
]
OVERVIEW_TEXT = {
    "introduction": "This review examines the contact twelve agencies had with Adult A and Adult B.\n"
                    "The panel met six times & read every IMR.\n"
                    "Adult A's family were invited to contribute.",
    "facts": "Zoë O'Brien-Smith lived at 12 Acacia Avenue, Exampletown EX1 2AB with Bartholomew Quince.\n"
             "Zed, as her friends called her, was born on 4 March 1991.\n"
             "She died at home in January 2026.",
    "analysis": "Agencies did not share information about escalating risk < the threshold for MARAC.\n"
                "Mr O'Neill at the drop-in recognised the signs.\n"
                "Housing records were not linked to police records.",
    "equality_and_diversity": "The nine protected characteristics were considered.\n"
                              "Adult A's Irish heritage was recorded by one agency only.",
    "family_contribution": "Adult A's sister met the chair twice.\nHer account shaped the key issues.",
    "key_issues": "Information sharing between housing & police.\nRecognising coercive control.\n"
                  "Professional curiosity about Zoe's injuries.",
    "conclusions": "The death could not have been predicted.\nRisk was under-recognised by several agencies.",
    "lessons": "Routine enquiry about coercive control should be embedded.\nLandlords need a route to report concerns.",
}
DISSEMINATION = [
    "Cambridge City CSP board",
    "Home Office DHR Quality Assurance Panel",
    "Exampleshire Police & Crime Commissioner",
    "The family of Adult A",
]
# One recommendation and one action's outcome name the victim, her alias, her address and the
# perpetrator: (as written, as the publication copy must print it).
NAMED_RECOMMENDATION = 5
NAMED_RECOMMENDATION_TEXT = (
    "Recommendation 05: the CSP to review how calls from Zoë O'Brien-Smith at 12 Acacia Avenue & from Zed were handled.",
    "Recommendation 05: the CSP to review how calls from Adult A at [address removed] & from Adult A were handled.",
)
NAMED_OUTCOME_ACTION = 12  # completed, under recommendation 5
NAMED_OUTCOME = ("60 staff trained & audited; Bartholomew Quince's calls are now flagged.",
                 "60 staff trained & audited; Adult B's calls are now flagged.")
EXTENSION_REASON = "Awaiting the criminal trial & the inquest into Adult A's death."
EXTENDED_TO = dt.date(2026, 10, 30)


def long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


@dataclass
class Rich:
    journey: Journey
    id: str
    reference: str
    imrs: dict[str, str]  # agency name -> IMR id (every IMR)
    agency_ids: dict[str, str]  # agency name -> id
    chronology: list[tuple[dt.date, str, str, str]] = field(default_factory=list)  # quoted: (date, agency, description, staff)
    recommendations: list[dict] = field(default_factory=list)  # number, text, scope, source, actions: [dict]
    overview_due_on: dt.date | None = None

    @property
    def participating(self) -> list[str]:
        return list(self.imrs)

    @property
    def with_contact(self) -> list[str]:
        """Agencies whose IMR has reached the panel (8.8): the ones that have reported contact."""
        return [name for name in self.imrs if name not in NO_CONTACT + self.awaiting]

    @property
    def awaiting(self) -> list[str]:
        return [DRAFT_WITH_ENTRIES, PREFILLED]

    def action_plan_rows(self, published: bool = False) -> list[list[str]]:
        """The seven Appendix 5 cells of every row, in order, as the plan should print them."""
        rows = []
        for rec in self.recommendations:
            first = [f"{rec['number']}. {rec['published_text' if published else 'text']}", rec["scope"].capitalize()]
            if not rec["actions"]:
                rows.append(first + ["No action agreed yet", "", "", "", ""])
            for a in rec["actions"]:
                outcome = a["published_outcome" if published else "outcome"]
                completion = f"{long_date(a['completed_on'])}: {outcome}" if a["completed_on"] else ""
                rows.append(first + [a["action"], a["lead_agency"], a["milestones"], long_date(a["target_date"]), completion])
        return rows


def build_rich_review(api: Api, world: World) -> Rich:
    journey = Journey(api, world).to("drafting")
    police, health = "Exampleshire Constabulary", "Example NHS Foundation Trust"
    agency_ids = {police: world.agencies["police"], health: world.agencies["health"]}
    imrs = {police: journey.imrs["police"], health: journey.imrs["health"]}
    # The journey's two IMRs each have one entry on 1 June 2025, police first.
    chronology = [(dt.date(2025, 6, 1), police, "Adult A attended an appointment.", "Practitioner 1"),
                  (dt.date(2025, 6, 1), health, "Adult A attended an appointment.", "Practitioner 1")]

    # The overview report deadline, extended by the CSP chair (6.4).
    overview_due_on = dt.date.fromisoformat(journey.deadline("overview_report")["due_on"])
    journey.fire("chair", "agree_extension", deadline="overview_report", new_due_on=EXTENDED_TO.isoformat(), reason=EXTENSION_REASON)

    base_time = dt.datetime(2026, 2, 20, 9, 0, tzinfo=dt.timezone.utc)
    tick = iter(range(100_000))

    def stamp() -> dt.datetime:  # explicit, strictly increasing creation times: the order is fixed
        return base_time + dt.timedelta(seconds=next(tick))

    with session_scope() as session:
        for person in session.scalars(select(Person).where(Person.review_id == journey.id)):
            if person.role == "victim":
                person.ethnicity, person.relationship = VICTIM_ETHNICITY, VICTIM_RELATIONSHIP
            else:
                person.ethnicity, person.relationship = PERPETRATOR_ETHNICITY, "Former partner"

        entry_number = 0
        for index, (name, kind, state, entries) in enumerate(EXTRA_AGENCIES):
            agency = Agency(name=name, kind=kind, email=f"agency{index}@agency.example")
            session.add(agency)
            session.flush()
            agency_ids[name] = agency.id
            final = state == "accepted"
            narrative = {
                "author_name": f"Author {index}", "author_role": "Safeguarding lead", "independence_confirmed": state != "in_progress",
                "methodology": f"Records of {name} reviewed.\nTwo staff interviewed." if final else "",
                "analysis": "Risk was not assessed at the first contact.\nReferral pathways were unclear." if final else "",
                "lessons": "Ask about coercive control." if final else "",
            }
            if name == SMITH:
                narrative.update(CANARIES)
                narrative["analysis"] = f"First paragraph of analysis {CANARIES['analysis']}.\nSecond paragraph & more."
            imr = Imr(
                review_id=journey.id, agency_id=agency.id, state=state, workflow_name="imr-2011", workflow_version=1,
                commissioned_on=dt.date(2026, 1, 22) + dt.timedelta(days=index), due_on=dt.date(2026, 3, 31),
                submitted_on=dt.date(2026, 2, 10) if final else None, accepted_on=dt.date(2026, 2, 15) if final else None,
                created_at=stamp(), **narrative,
            )
            if state == "in_progress":
                imr.author_name = "Drew Drafter"
            session.add(imr)
            session.flush()
            imrs[name] = imr.id
            for n in range(entries):
                entry_number += 1
                # Unique dates spread over 2023-2025 (never 1 June 2025, the journey's entries).
                occurred = dt.date(2023, 1, 3) + dt.timedelta(days=(entry_number * 97) % 1090)
                if name == DRAFT_WITH_ENTRIES:
                    description = f"Contact D{n}. {DRAFT_CANARY} not yet quality-assured."
                else:
                    description = f"Contact {entry_number:03d}. {DESCRIPTIONS[entry_number % len(DESCRIPTIONS)]}"
                staff = STAFF_NAME if entry_number % 3 == 0 else "Practitioner 2"
                session.add(ChronologyEntry(
                    imr_id=imr.id, review_id=journey.id, occurred_on=occurred, description=description,
                    seen=["Zoë O'Brien-Smith", "Adult B"] if entry_number % 2 else ["Adult A"],
                    views_expressed="Adult A said she wanted help & didn't want to go to court." if entry_number % 4 == 0 else "",
                    staff=staff, interviewed=entry_number % 2 == 0, created_at=stamp(),
                ))
                if final:
                    chronology.append((occurred, name, description, staff))

        session.add(Overview(review_id=journey.id, **OVERVIEW_TEXT, dissemination=DISSEMINATION))

        # Eleven recommendations: seven from IMRs, four from the overview; the last two with no action yet.
        sources = [police, health, SMITH, CAFE, None, "Example GP Federation", None, "Example Independent Domestic Violence Advisers", None, None, SMITH]
        scopes = ["local", "regional", "national"]
        per_recommendation = [3, 3, 2, 2, 2, 2, 2, 2, 2, 0, 0]
        leads = [police, health, SMITH, CAFE, "Example County Council Adult Social Care", "Example GP Federation"]
        recommendations = []
        action_number = 0
        for number, (source, count) in enumerate(zip(sources, per_recommendation), start=1):
            text = f"Recommendation {number:02d}: {source or 'the CSP'} to embed routine enquiry & share O'Neill's checklist."
            published_text = text
            if number == NAMED_RECOMMENDATION:  # real identifiers, which the publication copy must pseudonymise
                text, published_text = NAMED_RECOMMENDATION_TEXT
            rec = Recommendation(review_id=journey.id, number=number, text=text, scope=scopes[number % 3],
                                 imr_id=imrs[source] if source else None, created_at=stamp())
            session.add(rec)
            session.flush()
            actions = []
            for _ in range(count):
                action_number += 1
                lead = leads[action_number % len(leads)]
                completed = action_number % 4 == 0
                action = {
                    "action": f"Action {action_number:02d}: train staff in routine enquiry <level 2> & record it.",
                    "lead_agency": lead,
                    "milestones": f"Course written; cohort {action_number} trained.",
                    "target_date": dt.date(2027, action_number % 12 + 1, 1),
                    "completed_on": dt.date(2026, 2, action_number) if completed else None,
                    "outcome": f"{action_number * 5} staff trained & audited." if completed else None,
                }
                action["published_outcome"] = action["outcome"]
                if action_number == NAMED_OUTCOME_ACTION:
                    action["outcome"], action["published_outcome"] = NAMED_OUTCOME
                actions.append(action)
                session.add(Action(
                    recommendation_id=rec.id, review_id=journey.id, state="completed" if completed else "open",
                    workflow_name="action-2011", workflow_version=1, action=action["action"], lead_agency_id=agency_ids[lead],
                    target_date=action["target_date"], outcome_measure="90% of staff trained.", milestones=action["milestones"],
                    completed_on=action["completed_on"], outcome=action["outcome"], created_at=stamp(),
                ))
            recommendations.append({"number": number, "text": text, "published_text": published_text, "scope": scopes[number % 3],
                                    "source": f"{source} IMR" if source else "Overview Report", "actions": actions})
        assert action_number == 20

    chronology.sort(key=lambda row: row[0])  # stable: the journey's two same-day entries keep their order
    rich = Rich(journey=journey, id=journey.id, reference=journey.review["reference"], imrs=imrs, agency_ids=agency_ids,
                chronology=chronology, recommendations=recommendations, overview_due_on=overview_due_on)
    assert len(rich.chronology) >= 100
    return rich


def generate(api: Api, who: str, review_id: str, kind: str, variant: str = "restricted", imr_id: str | None = None, expect: int = 201) -> dict:
    body = {"kind": kind, "variant": variant, **({"imr_id": imr_id} if imr_id else {})}
    return ok(api.as_(who).post(f"/reviews/{review_id}/documents", json=body), expect)


def download(api: Api, who: str, document_id: str, fmt: str = "docx"):
    response = api.as_(who).get(f"/documents/{document_id}/content", params={"format": fmt})
    assert response.status_code == 200, f"{response.status_code}: {response.text}"
    return response
