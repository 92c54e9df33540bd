"""The workflow YAML files: the shipped ones load and carry API.md's review events; start-up
validation refuses a faulty definition, naming the fault; GET /reviews/{id}/workflow shows it."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from app.core.config import PROJECT_ROOT
from app.workflow.definition import ROLES
from app.workflow.registry import WorkflowDefinitionError, load
from tests.journey import Journey
from tests.support import ok

WORKFLOWS = PROJECT_ROOT / "workflows"

# API.md, "Events of the review (workflow dhr-2011)": event -> (from states, to state, roles).
# `None` keeps the state; "$previous" returns to the state the review was pended from.
OPEN_STATES = [
    "notified", "scoping", "evidence", "drafting", "panel_review", "family_review", "csp_signoff", "submitted",
    "cleared_subject_to_changes", "revising", "cleared", "published", "publication_withheld", "pended",
]
API_REVIEW_EVENTS = {
    "decide_to_review": (["notified"], "scoping", ["csp_chair"]),
    "decide_not_to_review": (["notified"], "not_reviewed", ["csp_chair"]),
    "reconsider": (["not_reviewed"], "notified", ["csp_chair"]),
    "record_home_office_notified": (["scoping", "not_reviewed"], None, ["csp_coordinator", "csp_chair"]),
    "agree_terms_of_reference": (["scoping"], "evidence", ["panel_chair"]),
    "begin_drafting": (["evidence"], "drafting", ["panel_chair"]),
    "present_overview": (["drafting"], "panel_review", ["panel_chair"]),
    "request_changes": (["panel_review"], "drafting", ["panel_chair"]),
    "approve_overview": (["panel_review"], "family_review", ["panel_chair"]),
    "record_family_response": (["family_review"], "csp_signoff", ["panel_chair", "csp_coordinator"]),
    "return_to_panel": (["csp_signoff"], "drafting", ["csp_chair"]),
    "submit": (["csp_signoff"], "submitted", ["csp_chair"]),
    "qa_clear": (["submitted"], "cleared", ["home_office"]),
    "qa_clear_subject_to_changes": (["submitted"], "cleared_subject_to_changes", ["home_office"]),
    "confirm_changes_made": (["cleared_subject_to_changes"], "cleared", ["csp_chair"]),
    "qa_require_resubmission": (["submitted"], "revising", ["home_office"]),
    "resubmit": (["revising"], "submitted", ["csp_chair"]),
    "publish": (["cleared"], "published", ["csp_chair"]),
    "withhold_publication": (["cleared"], "publication_withheld", ["csp_chair"]),
    "conclude": (["published", "publication_withheld"], "concluded", ["csp_chair"]),
    "pend": (["scoping", "evidence", "drafting", "panel_review", "family_review", "csp_signoff"], "pended", ["csp_chair"]),
    "resume": (["pended"], "$previous", ["csp_chair"]),
    "agree_extension": (OPEN_STATES, None, ["csp_chair"]),
}
# API.md's required data (marked *) for each event.
API_REQUIRED_DATA = {
    "decide_to_review": {"rationale"},
    "decide_not_to_review": {"rationale"},
    "reconsider": {"reason"},
    "record_home_office_notified": {"sent_on"},
    "request_changes": {"reason"},
    "record_family_response": {"response"},
    "return_to_panel": {"reason"},
    "qa_clear_subject_to_changes": {"changes"},
    "confirm_changes_made": {"summary"},
    "qa_require_resubmission": {"feedback"},
    "publish": {"url"},
    "withhold_publication": {"reason"},
    "conclude": {"audit_note"},
    "pend": {"reason"},
    "agree_extension": {"deadline", "new_due_on", "reason"},
}
# A guidance reference: a paragraph number (6.2, 8.4-8.8) or an appendix.
GUIDANCE = re.compile(r"^(\d+(\.\d+)?(-\d+(\.\d+)?)?|Appendix \d+)(, (\d+(\.\d+)?(-\d+(\.\d+)?)?|Appendix \d+))*$")


@pytest.fixture(scope="module")
def registry():
    return load(WORKFLOWS)


def test_the_shipped_workflows_load(registry):
    names = {(d.name, d.version) for d in registry.all()}
    assert {("dhr-2011", 1), ("imr-2011", 1), ("action-2011", 1)} <= names
    review = registry.latest("dhr-2011")
    assert review.subject == "review"
    assert registry.get(review.imr_workflow, 1).subject == "imr"
    assert registry.get(review.action_workflow, 1).subject == "action"


def test_every_event_of_the_api_contract_is_in_dhr_2011_with_its_roles_and_guidance(registry):
    review = registry.get("dhr-2011", 1)
    for event, (sources, target, roles) in API_REVIEW_EVENTS.items():
        transitions = [t for t in review.events if t.name == event]
        assert transitions, f"{event} is in API.md but not in dhr-2011.yaml"
        assert sorted({s for t in transitions for s in t.source}) == sorted(sources), event
        assert {t.to for t in transitions} == {target}, event
        assert sorted({r for t in transitions for r in t.roles}) == sorted(roles), event
        for t in transitions:
            assert GUIDANCE.match(t.guidance), f"{event}: guidance {t.guidance!r} is not a paragraph reference"
        required = {name for t in transitions for name, spec in t.data.items() if spec.required}
        assert required == API_REQUIRED_DATA.get(event, set()), event


def test_every_transition_of_every_shipped_workflow_is_complete(registry):
    for definition in registry.all():
        states = {s.name for s in definition.states}
        for state in definition.states:
            assert GUIDANCE.match(state.guidance), f"{definition.name}: state {state.name} guidance {state.guidance!r}"
        for t in definition.events:
            assert t.roles and set(t.roles) <= set(ROLES), f"{definition.name}: {t.name}"
            assert t.guidance.strip(), f"{definition.name}: {t.name} has no guidance"
            assert set(t.source) <= states
        # A final state has no way out (an action's `completed` may be reopened, so it is not final).
        for name in [s.name for s in definition.states if s.final]:
            assert not [t.name for t in definition.events if name in t.source and t.to is not None], (
                f"{definition.name}: final state {name} has a way out"
            )


def test_the_guidance_paragraphs_of_the_decision_events(registry):
    review = registry.get("dhr-2011", 1)
    by_name = {t.name: t for t in review.events}
    assert "4.6" in by_name["decide_to_review"].guidance and "6.2" in by_name["decide_to_review"].guidance
    assert "6.4" in by_name["agree_extension"].guidance
    assert review.deadlines["decision"].period == {"months": 1}
    assert review.deadlines["overview_report"].period == {"months": 6}


# -- start-up validation --------------------------------------------------------------------------

def _faulty_copy(tmp_path: Path, change) -> Path:
    directory = tmp_path / "workflows"
    shutil.copytree(WORKFLOWS, directory)
    path = directory / "dhr-2011.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return directory


def _event(data: dict, name: str) -> dict:
    return next(e for e in data["events"] if e["name"] == name)


def _refusal(directory: Path) -> str:
    with pytest.raises(WorkflowDefinitionError) as caught:
        load(directory)
    return str(caught.value)


def test_an_unchanged_copy_loads(tmp_path):
    directory = _faulty_copy(tmp_path, lambda data: None)
    assert load(directory).get("dhr-2011", 1).name == "dhr-2011"


def test_start_up_refuses_an_unknown_guard(tmp_path):
    directory = _faulty_copy(tmp_path, lambda d: _event(d, "submit")["guards"].append("moon_is_full"))
    message = _refusal(directory)
    assert "dhr-2011.yaml: event 'submit' uses the unknown guard 'moon_is_full'" in message
    assert "app/workflow/guards.py" in message


def test_start_up_refuses_an_unknown_effect(tmp_path):
    directory = _faulty_copy(tmp_path, lambda d: _event(d, "publish")["effects"].append({"tweet_it": {"loud": True}}))
    message = _refusal(directory)
    assert "dhr-2011.yaml: event 'publish' uses the unknown effect 'tweet_it'" in message
    assert "app/workflow/effects.py" in message


def test_start_up_refuses_an_unknown_deadline_kind(tmp_path):
    directory = _faulty_copy(tmp_path, lambda d: _event(d, "submit").setdefault("effects", []).append({"meet_deadline": {"kind": "lunch"}}))
    assert "names the unknown deadline kind 'lunch'" in _refusal(directory)


def test_start_up_refuses_an_unreachable_state(tmp_path):
    def add_orphan(data):
        data["states"].append({"name": "limbo", "guidance": "4.1", "title": "Nowhere"})
        # Leaving it is fine; nothing leads into it.
        data["events"].append({"name": "leave_limbo", "from": ["limbo"], "to": "notified", "roles": ["csp_chair"], "guidance": "4.1"})

    message = _refusal(_faulty_copy(tmp_path, add_orphan))
    assert "dhr-2011.yaml: state 'limbo' is unreachable from 'notified'" in message
    assert "leave_limbo" not in message


def test_start_up_refuses_a_state_only_reachable_through_a_removed_event(tmp_path):
    def drop_withholding(data):
        data["events"] = [e for e in data["events"] if e["name"] != "withhold_publication"]

    assert "state 'publication_withheld' is unreachable" in _refusal(_faulty_copy(tmp_path, drop_withholding))


def test_start_up_refuses_an_event_without_roles(tmp_path):
    directory = _faulty_copy(tmp_path, lambda d: _event(d, "reconsider").update(roles=[]))
    assert "dhr-2011.yaml: event 'reconsider' has no roles: name who may fire it" in _refusal(directory)


def test_start_up_refuses_an_event_whose_roles_are_missing_or_unknown(tmp_path):
    missing = _faulty_copy(tmp_path / "a", lambda d: _event(d, "reconsider").pop("roles"))
    message = _refusal(missing)
    assert "dhr-2011.yaml" in message and "roles" in message and "Field required" in message

    unknown = _faulty_copy(tmp_path / "b", lambda d: _event(d, "reconsider").update(roles=["csp_chair", "mayor"]))
    assert "event 'reconsider' names the unknown role 'mayor'" in _refusal(unknown)


def test_start_up_lists_every_fault_at_once(tmp_path):
    def several(data):
        _event(data, "submit")["guards"].append("moon_is_full")
        _event(data, "reconsider")["roles"] = []
        _event(data, "pend")["to"] = "holiday"

    message = _refusal(_faulty_copy(tmp_path, several))
    assert "unknown guard 'moon_is_full'" in message
    assert "event 'reconsider' has no roles" in message
    assert "event 'pend' leads to the unknown state 'holiday'" in message


def test_start_up_refuses_a_missing_sub_workflow_and_an_empty_directory(tmp_path):
    directory = _faulty_copy(tmp_path, lambda d: d.update(imr_workflow="imr-2099"))
    assert "refers to the workflow 'imr-2099', which is not defined" in _refusal(directory)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no workflow definitions" in _refusal(empty)


def test_start_up_refuses_malformed_yaml(tmp_path):
    directory = tmp_path / "workflows"
    shutil.copytree(WORKFLOWS, directory)
    (directory / "dhr-2011.yaml").write_text("name: dhr-2011\nstates: [unclosed\n")
    assert "dhr-2011.yaml" in _refusal(directory)


def test_the_application_will_not_start_with_a_faulty_definition(tmp_path, monkeypatch, database_url):
    from app.core.config import get_settings
    from app.main import create_app
    from app.workflow.registry import get_registry

    directory = _faulty_copy(tmp_path, lambda d: _event(d, "submit")["guards"].append("moon_is_full"))
    monkeypatch.setenv("DHR_WORKFLOWS_DIR", str(directory))
    get_settings.cache_clear()
    get_registry.cache_clear()
    try:
        with pytest.raises(WorkflowDefinitionError, match="moon_is_full"):
            create_app()
    finally:
        monkeypatch.delenv("DHR_WORKFLOWS_DIR")
        get_settings.cache_clear()
        get_registry.cache_clear()


# -- the workflow over HTTP -----------------------------------------------------------------------

def test_the_review_workflow_shows_states_transitions_and_a_diagram_marking_the_current_state(api, world):
    j = Journey(api, world)
    body = ok(api.as_("coordinator").get(f"/reviews/{j.id}/workflow"))
    assert (body["name"], body["version"], body["current"]) == ("dhr-2011", 1, "notified")
    assert [s["name"] for s in body["states"]][:3] == ["notified", "not_reviewed", "scoping"]
    assert all(s["guidance"] for s in body["states"])
    transitions = {t["event"]: t for t in body["transitions"]}
    assert set(API_REVIEW_EVENTS) <= set(transitions)
    decide = transitions["decide_to_review"]
    assert (decide["source"], decide["to"], decide["roles"]) == (["notified"], "scoping", ["csp_chair"])
    assert decide["guards"] == ["victim_aged_16_or_over", "child_review_considered_if_16_or_17"]
    assert "record_decision" in decide["effects"]
    assert decide["data"]["rationale"]["required"] is True

    mermaid = body["mermaid"]
    assert "stateDiagram-v2" in mermaid
    assert "notified --> scoping: decide_to_review" in mermaid
    assert "pended --> drafting: resume" in mermaid
    assert _active_states(mermaid) == ["notified"]

    j.to("scoping")
    body = ok(api.as_("chair").get(f"/reviews/{j.id}/workflow"))
    assert body["current"] == "scoping"
    assert _active_states(body["mermaid"]) == ["scoping"]

    # Not visible to another partnership.
    assert api.as_("other_chair").get(f"/reviews/{j.id}/workflow").status_code == 404


def _active_states(mermaid: str) -> list[str]:
    return re.findall(r"^\s*class\s+(\S+)\s+s_active\s*$", mermaid, flags=re.MULTILINE | re.IGNORECASE)
