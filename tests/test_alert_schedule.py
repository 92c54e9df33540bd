"""Alert schedules (workflows/*.yaml `alerts:`, app/notifications/schedule.py): the steps of the shipped
schedules as dates, properties that hold for any schedule, start-up refusing a faulty schedule or
notify effect by name, and a schedule change being nothing but a change to the YAML."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from app.cli import app as cli
from app.core.config import PROJECT_ROOT, get_settings
from app.notifications.schedule import Step, escalated_roles, first_on_or_after, latest_on_or_before
from app.workflow.definition import AlertSchedule, Escalation
from app.workflow.registry import WorkflowDefinitionError, get_registry, load
from tests.journey import Journey
from tests.support import ok

D = dt.date
DAY = dt.timedelta(days=1)
WORKFLOWS = PROJECT_ROOT / "workflows"
SHIPPED = load(WORKFLOWS).get("dhr-2011", 1)
SCHEDULES = {kind: rule.alerts for kind, rule in SHIPPED.deadlines.items()}


def steps(schedule: AlertSchedule, due_on: dt.date, start: dt.date, end: dt.date) -> list[Step]:
    """Every step from `start` to `end`, found as the sweep finds them: each next one after the last."""
    found, day = [], start
    while (step := first_on_or_after(schedule, due_on, day)) is not None and step.on <= end:
        found.append(step)
        day = step.on + DAY
    return found


def named(found: list[Step]) -> list[tuple[str, dt.date]]:
    return [(s.name, s.on) for s in found]


# -- the shipped schedules, as dates ------------------------------------------------------------------

def test_the_shipped_deadlines_each_have_the_schedule_the_yaml_comment_describes():
    assert set(SCHEDULES) == {"decision", "terms_of_reference", "overview_report", "imr", "action"}
    assert {kind: s.to for kind, s in SCHEDULES.items()} == {
        "decision": ["csp_chair", "csp_coordinator"],
        "terms_of_reference": ["panel_chair", "csp_coordinator"],
        "overview_report": ["panel_chair", "csp_coordinator"],
        "imr": ["agency_manager", "imr_author"],
        "action": ["agency_manager"],
    }
    assert all(s.on_the_day for s in SCHEDULES.values())
    assert SHIPPED.alerts_paused_in == ["pended"]


def test_the_decision_deadline_alerts_two_weeks_one_week_and_a_day_before_then_weekly_once_overdue():
    # Notified 2026-01-05: the decision is due a month later, 2026-02-05.
    assert named(steps(SCHEDULES["decision"], D(2026, 2, 5), D(2026, 1, 1), D(2026, 3, 6))) == [
        ("before-14", D(2026, 1, 22)),
        ("before-7", D(2026, 1, 29)),
        ("before-1", D(2026, 2, 4)),
        ("due", D(2026, 2, 5)),
        ("overdue-1", D(2026, 2, 6)),
        ("overdue-8", D(2026, 2, 13)),
        ("overdue-15", D(2026, 2, 20)),
        ("overdue-22", D(2026, 2, 27)),
        ("overdue-29", D(2026, 3, 6)),
    ]
    # Nobody further is told about a late decision: it is the CSP chair's own.
    for step in steps(SCHEDULES["decision"], D(2026, 2, 5), D(2026, 1, 1), D(2027, 1, 1)):
        assert escalated_roles(SCHEDULES["decision"], step) == []


def test_the_overview_report_starts_four_weeks_ahead():
    assert named(steps(SCHEDULES["overview_report"], D(2026, 7, 15), D(2026, 6, 1), D(2026, 7, 23))) == [
        ("before-28", D(2026, 6, 17)),
        ("before-14", D(2026, 7, 1)),
        ("before-7", D(2026, 7, 8)),
        ("before-1", D(2026, 7, 14)),
        ("due", D(2026, 7, 15)),
        ("overdue-1", D(2026, 7, 16)),
        ("overdue-8", D(2026, 7, 23)),
    ]


def test_an_imr_escalates_to_the_panel_and_coordinator_at_once_and_to_the_csp_chair_after_two_weeks():
    imr = SCHEDULES["imr"]
    found = steps(imr, D(2026, 3, 18), D(2026, 3, 1), D(2026, 4, 8))
    assert [(s.name, s.on, escalated_roles(imr, s)) for s in found] == [
        ("before-14", D(2026, 3, 4), []),
        ("before-7", D(2026, 3, 11), []),
        ("before-1", D(2026, 3, 17), []),
        ("due", D(2026, 3, 18), []),
        ("overdue-1", D(2026, 3, 19), ["panel_chair", "csp_coordinator"]),
        ("overdue-8", D(2026, 3, 26), ["panel_chair", "csp_coordinator"]),
        ("overdue-15", D(2026, 4, 2), ["panel_chair", "csp_coordinator", "csp_chair"]),
    ]


def test_the_terms_of_reference_escalate_to_the_csp_chair_from_the_first_overdue_day():
    terms = SCHEDULES["terms_of_reference"]
    due = D(2026, 2, 5)
    assert escalated_roles(terms, latest_on_or_before(terms, due, D(2026, 2, 5))) == []
    assert escalated_roles(terms, latest_on_or_before(terms, due, D(2026, 2, 6))) == ["csp_chair"]


def test_an_action_is_chased_fortnightly_and_reaches_the_csp_chair_after_four_weeks():
    action = SCHEDULES["action"]
    found = steps(action, D(2026, 6, 30), D(2026, 6, 1), D(2026, 8, 12))
    assert [(s.name, s.on, escalated_roles(action, s)) for s in found] == [
        ("before-14", D(2026, 6, 16), []),
        ("due", D(2026, 6, 30), []),
        ("overdue-1", D(2026, 7, 1), ["csp_coordinator"]),
        ("overdue-15", D(2026, 7, 15), ["csp_coordinator"]),
        ("overdue-29", D(2026, 7, 29), ["csp_coordinator", "csp_chair"]),
        ("overdue-43", D(2026, 8, 12), ["csp_coordinator", "csp_chair"]),
    ]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2026, 1, 21), None),  # nothing is due yet
        (D(2026, 1, 22), ("before-14", D(2026, 1, 22))),
        (D(2026, 1, 28), ("before-14", D(2026, 1, 22))),  # between steps: the last one
        (D(2026, 2, 3), ("before-7", D(2026, 1, 29))),
        (D(2026, 2, 5), ("due", D(2026, 2, 5))),
        (D(2026, 2, 12), ("overdue-1", D(2026, 2, 6))),
        (D(2026, 2, 13), ("overdue-8", D(2026, 2, 13))),
        (D(2026, 12, 31), ("overdue-323", D(2026, 12, 25))),  # 323 = 1 + 46 weeks
        (D(2027, 1, 1), ("overdue-330", D(2027, 1, 1))),
    ],
)
def test_a_sweep_that_missed_days_sends_only_the_latest_step(day, expected):
    step = latest_on_or_before(SCHEDULES["decision"], D(2026, 2, 5), day)
    assert ((step.name, step.on) if step else None) == expected


def test_steps_count_real_calendar_days_across_month_ends_leap_days_and_the_year_end():
    decision = SCHEDULES["decision"]
    assert named(steps(decision, D(2028, 2, 29), D(2028, 2, 1), D(2028, 3, 8))) == [
        ("before-14", D(2028, 2, 15)), ("before-7", D(2028, 2, 22)), ("before-1", D(2028, 2, 28)),
        ("due", D(2028, 2, 29)), ("overdue-1", D(2028, 3, 1)), ("overdue-8", D(2028, 3, 8)),
    ]
    assert named(steps(decision, D(2027, 1, 3), D(2026, 12, 1), D(2027, 1, 11))) == [
        ("before-14", D(2026, 12, 20)), ("before-7", D(2026, 12, 27)), ("before-1", D(2027, 1, 2)),
        ("due", D(2027, 1, 3)), ("overdue-1", D(2027, 1, 4)), ("overdue-8", D(2027, 1, 11)),
    ]


def test_a_schedule_with_no_repeat_sends_one_overdue_alert_and_stops():
    once = AlertSchedule(to=["csp_chair"], before_days=[3], on_the_day=False, overdue_every_days=0)
    due = D(2026, 5, 10)
    assert named(steps(once, due, D(2026, 1, 1), D(2030, 1, 1))) == [("before-3", D(2026, 5, 7)), ("overdue-1", D(2026, 5, 11))]
    assert first_on_or_after(once, due, D(2026, 5, 12)) is None
    assert latest_on_or_before(once, due, D(2029, 1, 1)).name == "overdue-1"
    assert latest_on_or_before(once, due, D(2026, 5, 10)).name == "before-3"  # no alert on the day itself


# -- properties of any schedule -----------------------------------------------------------------------

schedules = st.one_of(
    st.sampled_from(list(SCHEDULES.values())),
    st.builds(
        AlertSchedule,
        to=st.just(["csp_chair"]),
        before_days=st.lists(st.integers(1, 60), unique=True, max_size=5),
        on_the_day=st.booleans(),
        overdue_every_days=st.integers(0, 30),
        escalate=st.lists(st.builds(Escalation, after_days_overdue=st.integers(1, 60), to=st.lists(st.sampled_from(["panel_chair", "csp_coordinator", "csp_chair"]), min_size=1, unique=True)), max_size=3),
    ),
)
dues = st.dates(min_value=D(2000, 1, 1), max_value=D(2099, 12, 31))
offsets = st.integers(-120, 400)


def oracle(schedule: AlertSchedule, due: dt.date, start: dt.date, end: dt.date) -> list[dt.date]:
    """The step days straight from the YAML's description, counted one day at a time."""
    days = []
    day = start
    while day <= end:
        offset = (day - due).days
        if (
            (offset < 0 and -offset in schedule.before_days)
            or (offset == 0 and schedule.on_the_day)
            or offset == 1
            or (offset > 1 and schedule.overdue_every_days and (offset - 1) % schedule.overdue_every_days == 0)
        ):
            days.append(day)
        day += DAY
    return days


@settings(max_examples=200, deadline=None)
@given(schedule=schedules, due=dues, offset=offsets)
def test_the_next_step_is_never_before_the_day_asked_about_and_is_the_latest_step_on_its_own_day(schedule, due, offset):
    day = due + dt.timedelta(days=offset)
    step = first_on_or_after(schedule, due, day)
    if step is None:
        # Only a schedule that does not repeat runs out, and only after its one overdue alert.
        assert schedule.overdue_every_days == 0 and day > due + DAY
        return
    assert step.on >= day
    assert latest_on_or_before(schedule, due, step.on) == step
    assert step.days_overdue == (step.on - due).days
    assert step.overdue == (step.on > due)


@settings(max_examples=150, deadline=None)
@given(schedule=schedules, due=dues, offset=st.integers(-100, 0), span=st.integers(0, 250))
def test_stepping_day_by_day_visits_exactly_the_steps_once_each(schedule, due, offset, span):
    start = due + dt.timedelta(days=offset)
    end = start + dt.timedelta(days=span)
    expected = oracle(schedule, due, start, end)
    found = steps(schedule, due, start, end)
    assert [s.on for s in found] == expected
    # Every day maps to at most one step, and a step's name identifies its day.
    assert len({s.on for s in found}) == len(found) == len({s.name for s in found})
    # A sweep running every day meets each step on its own day, and sends nothing in between.
    day = start
    while day <= end:
        latest = latest_on_or_before(schedule, due, day)
        earlier = [d for d in oracle(schedule, due, due - dt.timedelta(days=61), day)]
        assert (latest.on if latest else None) == (earlier[-1] if earlier else None), day
        day += DAY


@settings(max_examples=100, deadline=None)
@given(schedule=schedules, due=dues, a=offsets, b=offsets)
def test_escalation_only_grows_as_a_deadline_gets_later(schedule, due, a, b):
    early, late = sorted((a, b))
    first = latest_on_or_before(schedule, due, due + dt.timedelta(days=early))
    second = latest_on_or_before(schedule, due, due + dt.timedelta(days=late))
    if first is None:
        return
    assert set(escalated_roles(schedule, first)) <= set(escalated_roles(schedule, second))
    if not first.overdue:
        assert escalated_roles(schedule, first) == []


# -- start-up refuses a faulty schedule or notify effect, naming it --------------------------------------

def _faulty_copy(tmp_path: Path, change, file: str = "dhr-2011.yaml") -> Path:
    directory = tmp_path / "workflows"
    shutil.copytree(WORKFLOWS, directory)
    path = directory / file
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return directory


def _refusal(directory: Path) -> str:
    with pytest.raises(WorkflowDefinitionError) as caught:
        load(directory)
    return str(caught.value)


def _alerts(kind: str):
    def get(data: dict) -> dict:
        return data["deadlines"][kind]["alerts"]
    return get


def _event(data: dict, name: str) -> dict:
    return next(e for e in data["events"] if e["name"] == name)


def _notify(effects: list) -> dict:
    return next(e["notify"] for e in effects if isinstance(e, dict) and "notify" in e)


def test_an_unchanged_copy_loads_with_its_schedules(tmp_path):
    registry = load(_faulty_copy(tmp_path, lambda d: None))
    assert registry.get("dhr-2011", 1).deadlines["decision"].alerts == SCHEDULES["decision"]


def test_start_up_refuses_an_unknown_role_in_an_alert_schedule(tmp_path):
    directory = _faulty_copy(tmp_path, lambda d: _alerts("decision")(d)["to"].append("mayor"))
    message = _refusal(directory)
    assert "dhr-2011.yaml: the alerts of deadline 'decision' names the unknown role 'mayor'" in message
    assert "csp_coordinator" in message  # the known roles are listed


def test_start_up_refuses_an_unknown_role_in_an_escalation(tmp_path):
    directory = _faulty_copy(tmp_path, lambda d: _alerts("imr")(d)["escalate"][1]["to"].append("chief_constable"))
    message = _refusal(directory)
    assert "the alerts of deadline 'imr' (escalation after 15 days) names the unknown role 'chief_constable'" in message


def test_start_up_refuses_an_agency_role_for_a_deadline_of_the_whole_review(tmp_path):
    directory = _faulty_copy(tmp_path, lambda d: _alerts("decision")(d)["to"].append("imr_author"))
    message = _refusal(directory)
    assert "the alerts of deadline 'decision' names 'imr_author', which only means something for an IMR or an action" in message

    escalation = _faulty_copy(tmp_path / "b", lambda d: _alerts("terms_of_reference")(d)["escalate"][0]["to"].append("agency_manager"))
    assert "deadline 'terms_of_reference' (escalation after 1 days) names 'agency_manager'" in _refusal(escalation)


def test_agency_roles_are_fine_for_imr_and_action_deadlines(tmp_path):
    def agency_escalation(data):
        _alerts("imr")(data)["escalate"][1]["to"].append("agency_manager")
        _alerts("action")(data)["to"].append("imr_author")

    assert load(_faulty_copy(tmp_path, agency_escalation)).get("dhr-2011", 1).deadlines["action"].alerts.to == ["agency_manager", "imr_author"]


@pytest.mark.parametrize(
    ("before_days", "fault"),
    [
        ([14, 7, 0], "before_days counts whole days before the due date: each must be 1 or more"),
        ([-7], "before_days counts whole days before the due date: each must be 1 or more"),
        ([14, 7, 7, 1], "before_days names the same day twice"),
    ],
)
def test_start_up_refuses_before_days_that_are_not_distinct_whole_days_before(tmp_path, before_days, fault):
    directory = _faulty_copy(tmp_path, lambda d: _alerts("decision")(d).update(before_days=before_days))
    message = _refusal(directory)
    assert "dhr-2011.yaml" in message and "deadlines.decision.alerts.before_days" in message
    assert fault in message


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda a: a.update(overdue_every_days=-7), "overdue_every_days"),
        (lambda a: a["escalate"][0].update(after_days_overdue=0), "escalate.0.after_days_overdue"),
        (lambda a: a.update(befor_days=[14]), "befor_days"),  # a misspelt key is not silently ignored
        (lambda a: a.pop("to"), "to"),
    ],
    ids=["negative repeat", "escalation on the due date", "misspelt key", "no to"],
)
def test_start_up_refuses_a_malformed_schedule(tmp_path, change, where):
    directory = _faulty_copy(tmp_path, lambda d: change(_alerts("terms_of_reference")(d)))
    message = _refusal(directory)
    assert "dhr-2011.yaml" in message and f"deadlines.terms_of_reference.alerts.{where}" in message


def test_start_up_refuses_an_alert_schedule_to_nobody(tmp_path):
    directory = _faulty_copy(tmp_path, lambda d: _alerts("decision")(d).update(to=[]))
    assert "dhr-2011.yaml: the alerts of deadline 'decision' names nobody to send to: give it roles in `to`" in _refusal(directory)
    level = _faulty_copy(tmp_path / "b", lambda d: _alerts("imr")(d)["escalate"][0].update(to=[]))
    assert "the alerts of deadline 'imr' (escalation after 1 days) names nobody to send to" in _refusal(level)


def test_start_up_refuses_a_notify_to_nobody(tmp_path):
    directory = _faulty_copy(tmp_path, lambda d: _notify(_event(d, "submit")["effects"]).update(to=[]))
    assert "dhr-2011.yaml: event 'submit': notify review_submitted names nobody to send to" in _refusal(directory)


def test_start_up_refuses_alerts_paused_in_an_unknown_state(tmp_path):
    directory = _faulty_copy(tmp_path, lambda d: d["alerts_paused_in"].append("on_holiday"))
    assert "dhr-2011.yaml: alerts_paused_in names the unknown state 'on_holiday'" in _refusal(directory)


def test_start_up_refuses_an_unknown_notify_message(tmp_path):
    directory = _faulty_copy(tmp_path, lambda d: _notify(d["initial"]["effects"]).update(message="review_notifed"))
    message = _refusal(directory)
    assert "dhr-2011.yaml: initial: notify names the unknown message 'review_notifed'" in message
    assert "review_notified" in message  # the known messages are listed

    imr = _faulty_copy(tmp_path / "b", lambda d: _notify(_event(d, "quality_assure")["effects"]).update(message="carrier_pigeon"), file="imr-2011.yaml")
    assert "imr-2011.yaml: event 'quality_assure': notify names the unknown message 'carrier_pigeon'" in _refusal(imr)


@pytest.mark.parametrize("outcome", [None, "approved"], ids=["missing", "unknown"])
def test_start_up_refuses_a_qa_outcome_notice_without_a_known_outcome(tmp_path, outcome):
    def change(data):
        notify = _notify(_event(data, "qa_clear")["effects"])
        notify.pop("outcome")
        if outcome:
            notify["outcome"] = outcome

    message = _refusal(_faulty_copy(tmp_path, change))
    assert "dhr-2011.yaml: event 'qa_clear': notify qa_outcome needs an outcome, one of cleared, cleared_subject_to_changes, resubmission_required" in message


def test_start_up_refuses_a_notify_of_the_review_to_an_agency_role_but_not_of_an_imr(tmp_path):
    directory = _faulty_copy(tmp_path, lambda d: _notify(_event(d, "submit")["effects"])["to"].append("agency_manager"))
    assert "event 'submit': notify review_submitted names 'agency_manager', which only means something for an IMR or an action" in _refusal(directory)
    # The IMR workflow names the agency's roles already (imr_commissioned, imr_returned): it loads.
    imr = load(WORKFLOWS).get("imr-2011", 1)
    assert _notify([{"notify": c.params} for c in imr.initial.effects if c.name == "notify"])["to"] == ["agency_manager", "imr_author"]


def test_start_up_lists_every_schedule_fault_at_once(tmp_path):
    def several(data):
        _alerts("decision")(data)["to"].append("mayor")
        _alerts("overview_report")(data)["to"] = []
        data["alerts_paused_in"] = ["pended", "on_holiday"]
        _notify(_event(data, "qa_clear")["effects"]).pop("outcome")

    message = _refusal(_faulty_copy(tmp_path, several))
    assert "deadline 'decision' names the unknown role 'mayor'" in message
    assert "deadline 'overview_report' names nobody to send to" in message
    assert "alerts_paused_in names the unknown state 'on_holiday'" in message
    assert "notify qa_outcome needs an outcome" in message


# -- changing a schedule is a change to the YAML ---------------------------------------------------------

@pytest.fixture
def workflows_dir(tmp_path, monkeypatch, database_url):
    """Point the application at a copy of workflows/, edited; the shipped files come back afterwards."""

    def use(change) -> Path:
        directory = _faulty_copy(tmp_path, change)
        monkeypatch.setenv("DHR_WORKFLOWS_DIR", str(directory))
        get_settings.cache_clear()
        get_registry.cache_clear()
        return directory

    yield use
    monkeypatch.delenv("DHR_WORKFLOWS_DIR", raising=False)
    get_settings.cache_clear()
    get_registry.cache_clear()


def _sweep(on: str) -> str:
    result = CliRunner().invoke(cli, ["sweep", "--on", on])
    assert result.exit_code == 0, result.output
    return result.output


def _decision_alerts(api, j: Journey) -> list[tuple[str, str]]:
    """The decision deadline's alert emails, as the coordinator sees them in the outbox: (step, to)."""
    items = ok(api.as_("coordinator").get("/outbox", params={"review_id": j.id, "limit": 100}))["items"]
    prefix = f"{j.review['reference']}: Decision whether to hold a review "
    return sorted((m["step"], m["to"]) for m in items if m["kind"] == "deadline_alert" and m["subject"].startswith(prefix))


@pytest.mark.parametrize("edited", [False, True], ids=["shipped", "before_days-3"])
def test_a_schedule_changed_in_the_yaml_changes_when_the_sweep_sends_alerts(api, world, workflows_dir, edited):
    if edited:
        workflows_dir(lambda d: _alerts("decision")(d).update(before_days=[3]))
    assert get_registry().get("dhr-2011", 1).deadlines["decision"].alerts.before_days == ([3] if edited else [14, 7, 1])
    j = Journey(api, world, notified_on=D(2026, 1, 5))  # decision and terms of reference due 2026-02-05
    both = {"chair@dhr.example", "coordinator@dhr.example"}

    # Fourteen days before: the shipped schedule alerts; the edited one waits. The terms of reference
    # (unchanged) alert either way, so the sweep did run.
    assert "alert(s) due" in _sweep("2026-01-22")
    assert _decision_alerts(api, j) == ([] if edited else sorted(("before-14", to) for to in both))
    terms = [e for e in j.history() if e["event"] == "deadline_alert" and e["data"]["kind"] == "terms_of_reference"]
    assert [e["data"]["step"] for e in terms] == ["before-14"]

    # Three days before: the edited schedule's step; the shipped one sends the week-before step it
    # would have sent on 2026-01-29 (the latest step, not every missed one).
    _sweep("2026-02-02")
    sent = {"before-3"} if edited else {"before-14", "before-7"}
    assert _decision_alerts(api, j) == sorted((step, to) for step in sent for to in both)

    # Both carry on to the due date the same way.
    _sweep("2026-02-05")
    due = [step for step, _to in _decision_alerts(api, j) if step == "due"]
    assert len(due) == 2
    steps_sent = [e["data"]["step"] for e in j.history() if e["event"] == "deadline_alert" and e["data"]["kind"] == "decision"]
    assert steps_sent == (["before-3", "due"] if edited else ["before-14", "before-7", "due"])
