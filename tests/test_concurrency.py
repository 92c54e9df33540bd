"""Two people at once: optimistic locking of edits (If-Match / ETag), events racing on one review,
and an event that fails half-way writing nothing at all."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from fastapi.testclient import TestClient

from app.core import clock
from app.core.errors import Conflict
from app.workflow import effects as effect_table
from app.workflow.definition import Call
from app.workflow.registry import get_registry
from tests.journey import OVERVIEW, Journey

D = dt.date


# -- If-Match on PATCH ----------------------------------------------------------------------------

def _check_optimistic_locking(as_user, path: str, body_1: dict, body_2: dict) -> None:
    current = as_user.get(path)
    assert current.status_code == 200, current.text
    tag = current.headers["ETag"]
    assert tag == f'"{current.json()["version"]}"'

    missing = as_user.patch(path, json=body_1)
    assert missing.status_code == 428, missing.text
    assert "If-Match" in missing.json()["detail"] and "ETag" in missing.json()["detail"]

    first = as_user.patch(path, json=body_1, headers={"If-Match": tag})
    assert first.status_code == 200, first.text
    new_tag = first.headers["ETag"]
    assert new_tag != tag
    assert new_tag == f'"{first.json()["version"]}"'
    assert as_user.get(path).headers["ETag"] == new_tag

    stale = as_user.patch(path, json=body_2, headers={"If-Match": tag})
    assert stale.status_code == 412, stale.text
    detail = stale.json()["detail"]
    assert "changed since you loaded it" in detail and "Reload" in detail
    assert stale.json()["version"] == first.json()["version"]
    # Nothing of the refused edit was kept.
    after = as_user.get(path)
    assert after.headers["ETag"] == new_tag
    for name, value in body_1.items():
        assert after.json()[name] == value

    # A weak validator, as some proxies rewrite it, names the same version.
    again = as_user.patch(path, json=body_2, headers={"If-Match": f"W/{new_tag}"})
    assert again.status_code == 200, again.text
    assert again.headers["ETag"] not in (tag, new_tag)
    for name, value in body_2.items():
        assert again.json()[name] == value


def test_editing_the_overview_report_needs_the_current_etag(api, world):
    j = Journey(api, world).to("evidence")
    _check_optimistic_locking(
        api.as_("panel_chair"), f"/reviews/{j.id}/overview",
        {"introduction": OVERVIEW["introduction"]}, {"facts": OVERVIEW["facts"]},
    )
    edits = [e for e in j.history() if e["event"] == "edit_overview"]
    assert [sorted(e["changes"]) for e in edits] == [["introduction"], ["facts"]]


def test_editing_an_imr_needs_the_current_etag(api, world):
    j = Journey(api, world).to("evidence")
    j.commission(agencies=("police",))
    _check_optimistic_locking(
        api.as_("police_author"), f"/imrs/{j.imrs['police']}",
        {"methodology": "Records reviewed."}, {"analysis": "Risk was not assessed."},
    )


def test_two_people_editing_one_overview_report_cannot_overwrite_each_other(api, world):
    j = Journey(api, world).to("evidence")
    chair = api.as_("panel_chair")
    path = f"/reviews/{j.id}/overview"
    tag = chair.get(path).headers["ETag"]
    # Both loaded the same version; the first to save wins, the second is told to reload.
    first = chair.patch(path, json={"analysis": "First analysis."}, headers={"If-Match": tag})
    second = chair.patch(path, json={"analysis": "Second analysis."}, headers={"If-Match": tag})
    assert (first.status_code, second.status_code) == (200, 412)
    assert chair.get(path).json()["analysis"] == "First analysis."


# -- two events at the same moment ----------------------------------------------------------------

def _race(app, token: str, requests: list[tuple[str, dict]]) -> list:
    """Send each request from its own thread and its own client, all released at once."""
    return _race_as(app, [(token, path, body) for path, body in requests])


@pytest.mark.parametrize("round_", range(3))
def test_two_decisions_fired_at_once_on_one_review_exactly_one_applies(app, api, world, round_):
    j = Journey(api, world)
    clock.set_today(D(2026, 1, 15))
    before = len(j.history())
    responses = _race(app, world.user("chair").token, [
        (f"/reviews/{j.id}/events", {"event": "decide_to_review", "data": {"rationale": "The definition in 3.8 is met."}}),
        (f"/reviews/{j.id}/events", {"event": "decide_not_to_review", "data": {"rationale": "Not a domestic homicide."}}),
    ])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409], [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 200).json()
    loser = next(r for r in responses if r.status_code == 409).json()
    assert loser["detail"]
    if "state" in loser:  # refused by the workflow: it names the state the winner left
        assert loser["state"] == winner["state"]

    review = j.get()
    assert review["state"] == winner["state"] in ("scoping", "not_reviewed")
    assert review["decision"] == ("review" if review["state"] == "scoping" else "not_review")
    history = j.history()
    decisions = [e for e in history if e["event"] in ("decide_to_review", "decide_not_to_review")]
    assert len(decisions) == 1
    assert decisions[0]["to_state"] == review["state"]
    assert len(history) == before + 1
    assert [e["seq"] for e in history] == list(range(1, len(history) + 1))
    # The deadlines are those of the one decision that applied.
    kinds = {d["kind"]: d["status"] for d in review["deadlines"]}
    assert kinds["decision"] == "met"
    if review["state"] == "scoping":
        assert kinds["terms_of_reference"] == "pending" and "overview_report" in kinds
    else:
        assert kinds["terms_of_reference"] == "waived" and "overview_report" not in kinds


def test_the_same_event_fired_twice_at_once_applies_once(app, api, world):
    j = Journey(api, world)
    clock.set_today(D(2026, 1, 15))
    body = {"event": "decide_to_review", "data": {"rationale": "The definition in 3.8 is met."}}
    responses = _race(app, world.user("chair").token, [(f"/reviews/{j.id}/events", body)] * 3)
    assert sorted(r.status_code for r in responses) == [200, 409, 409], [r.text for r in responses]
    assert len([e for e in j.history() if e["event"] == "decide_to_review"]) == 1
    assert len([d for d in j.get()["deadlines"] if d["kind"] == "overview_report"]) == 1


# -- atomicity -------------------------------------------------------------------------------------

class Boom(RuntimeError):
    pass


@pytest.mark.parametrize("failure", ["crash", "refusal"])
def test_an_effect_that_fails_half_way_leaves_nothing_written(app, api, world, monkeypatch, failure):
    """An effect that raises after the state, the review and the deadlines were changed (and flushed)
    rolls the whole event back: state, review fields, deadlines and history are as before."""
    j = Journey(api, world)
    clock.set_today(D(2026, 1, 15))
    before_review = j.get()
    before_history = j.history()

    def explode(ctx, _call):
        ctx.set(ctx.review, "summary", "changed by a failing effect")
        ctx.session.flush()  # the change reaches the database inside the transaction
        if failure == "crash":
            raise Boom("the effect failed half-way")
        raise Conflict("The effect refused half-way.")

    monkeypatch.setitem(effect_table.EFFECTS, "test_explode", explode)
    registry = get_registry()
    key = (before_review["workflow"], before_review["workflow_version"])
    original = registry.get(*key)
    broken = original.model_copy(deep=True)
    transition = next(t for t in broken.events if t.name == "decide_to_review")
    transition.effects.append(Call(name="test_explode"))  # after record_decision and the deadline effects
    monkeypatch.setitem(registry._by_key, key, broken)

    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
        response = client.post(
            f"/api/v1/reviews/{j.id}/events",
            json={"event": "decide_to_review", "data": {"rationale": "The definition in 3.8 is met."}},
            headers={"Authorization": f"Bearer {world.user('chair').token}"},
        )
    assert response.status_code == (500 if failure == "crash" else 409), response.text

    after_review = j.get()
    assert after_review["state"] == "notified"
    assert after_review["version"] == before_review["version"]
    assert after_review["summary"] == before_review["summary"]
    assert after_review["decision"] is None and after_review["decided_on"] is None
    assert after_review["deadlines"] == before_review["deadlines"]
    assert [d["kind"] for d in after_review["deadlines"]] == ["decision", "terms_of_reference"]
    assert j.history() == before_history

    # With the definition restored the same event applies normally.
    monkeypatch.setitem(registry._by_key, key, original)
    j.fire("chair", "decide_to_review", rationale="The definition in 3.8 is met.")
    assert j.review["state"] == "scoping"
    assert len(j.history()) == len(before_history) + 1


# -- independent additions at once ----------------------------------------------------------------

def _race_as(app, requests: list[tuple[str, str, dict]]) -> list:
    """Send each request (token, path, body) from its own thread and its own client, all released at once."""
    barrier = threading.Barrier(len(requests))
    responses: list = [None] * len(requests)
    errors: list[BaseException] = []

    def run(index: int, token: str, path: str, body: dict) -> None:
        try:
            with TestClient(app, base_url="http://127.0.0.1") as client:
                barrier.wait(timeout=30)
                responses[index] = client.post(f"/api/v1{path}", json=body, headers={"Authorization": f"Bearer {token}"})
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, *request)) for i, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert all(not t.is_alive() for t in threads), "a request never finished"
    return responses


@pytest.mark.parametrize("round_", range(2))
def test_people_and_chronology_added_to_one_review_at_once_all_apply(app, api, world, round_):
    """Additions that do not conflict (people, each agency's chronology) queue on the review and all
    succeed: nobody is told "someone else changed this" for a change no one else touched."""
    j = Journey(api, world).to("evidence")
    j.commission()
    for agency in ("police", "health"):
        j.imr_event(f"{agency}_author", agency, "acknowledge", author_name="Ivy Independent", author_role="Review officer", independence_confirmed=True)
    history_before = len(j.history())
    coordinator, police, health = (world.user(k).token for k in ("coordinator", "police_author", "health_author"))
    requests = [(coordinator, f"/reviews/{j.id}/people", {"role": "other", "name": f"Invented Neighbour {n}", "pseudonym": f"Neighbour {n}"}) for n in range(4)]
    for token, agency in ((police, "police"), (health, "health")):
        requests += [(token, f"/imrs/{j.imrs[agency]}/chronology", {
            "occurred_on": f"2025-06-0{n + 1}", "description": f"Contact {n} with Adult A.", "seen": ["Adult A"], "staff": "Practitioner 1", "interviewed": True,
        }) for n in range(3)]
    responses = _race_as(app, requests)
    assert [r.status_code for r in responses] == [201] * len(requests), [r.text for r in responses if r.status_code != 201]

    people = api.as_("coordinator").get(f"/reviews/{j.id}/people").json()["items"]
    assert {p["pseudonym"] for p in people} >= {f"Neighbour {n}" for n in range(4)}
    for agency in ("police", "health"):
        entries = api.as_(f"{agency}_author").get(f"/imrs/{j.imrs[agency]}/chronology").json()["items"]
        assert len(entries) == 3
    history = j.history()
    assert len(history) >= history_before + len(requests)
    assert [e["seq"] for e in history] == list(range(1, len(history) + 1))
