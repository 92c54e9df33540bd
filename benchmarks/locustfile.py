"""The benchmark's clients, for Locust (run by benchmarks/run.py, not by hand).

Each simulated client is one person from the clients file (BENCH_CLIENTS): a CSP chair, a coordinator,
agency staff, a panel chair or a Home Office reviewer, signed in with their own token (as a bearer for
the API, as the session cookie for pages). A client does what that person does: opens the home page,
lists reviews with a filter, reads a review (page and API), and a CSP chair also pends and resumes one
review of their own (a workflow event, alternately) and generates its Executive Summary.

BENCH_KIND=<kind> makes every client repeat one kind with no pause (the capacity runs); without it the
clients mix the kinds by WEIGHTS and wait BENCH_THINK seconds on average (0.5x to 1.5x) between requests.
"""
from __future__ import annotations

import itertools
import json
import os
import random

import gevent
from locust import FastHttpUser, between, constant, task

CLIENTS = json.load(open(os.environ["BENCH_CLIENTS"]))
KIND = os.environ.get("BENCH_KIND") or None
THINK = float(os.environ.get("BENCH_THINK", "1"))
SESSION_COOKIE = "dhr_session"
# Relative frequency of each kind in the mixed workload (a chair's share of events and documents is
# carried only by the chairs). Health checks come from the load balancer, at a steady trickle.
WEIGHTS = {
    "health": 1, "home page": 3, "review list (API, filtered)": 2, "review list (page, filtered)": 2,
    "review page": 4, "review (API)": 3, "event": 1, "document": 0.2,
}
METHODS = {
    "health": "_health", "home page": "_home_page", "review list (API, filtered)": "_review_list_api",
    "review list (page, filtered)": "_review_list_page", "review page": "_review_page", "review (API)": "_review_api",
    "event": "_event", "document": "_document",
}
READS = ("home page", "review list (API, filtered)", "review list (page, filtered)", "review page", "review (API)")
_numbers = itertools.count()
# Reviews whose events some client fires: with more clients than people a person is simulated twice,
# and only the first of the two pends and resumes (two would undo each other's step and be refused).
_event_reviews: set[str] = set()


class Person(FastHttpUser):
    wait_time = constant(0) if KIND else between(0.5 * THINK, 1.5 * THINK)

    def on_start(self) -> None:
        self.me = CLIENTS[next(_numbers) % len(CLIENTS)]
        self.bearer = {"Authorization": f"Bearer {self.me['token']}"}
        self.cookie = {"Cookie": f"{SESSION_COOKIE}={self.me['token']}"}
        self.pended = False
        review = self.me.get("event_review")
        self.event_review = review if review and review not in _event_reviews else None
        if self.event_review:
            _event_reviews.add(self.event_review)
            # An earlier run may have left the review pended: start from its real state.
            response = self.client.get(f"/api/v1/reviews/{self.event_review}", headers=self.bearer, name="(setup)")
            self.pended = response.status_code == 200 and response.json()["state"] == "pended"
        kinds = [k for k in WEIGHTS if self.event_review or k not in ("event", "document")]
        self.kinds, self.weights = kinds, [WEIGHTS[k] for k in kinds]
        if not KIND:
            # People do not act in step: each begins somewhere within one pause of arriving.
            gevent.sleep(random.uniform(0, THINK))

    @task
    def one_request(self) -> None:
        kind = KIND or random.choices(self.kinds, self.weights)[0]
        if kind in ("event", "document") and not self.event_review:
            kind = "review (API)"
        getattr(self, METHODS[kind])(kind)

    def _get(self, path: str, name: str, headers: dict, expect: int = 200) -> None:
        with self.client.get(path, headers=headers, name=name, catch_response=True) as response:
            if response.status_code != expect:
                response.failure(f"{response.status_code} from {name}")

    def _health(self, name: str) -> None:
        self._get("/healthz", name, {})

    def _home_page(self, name: str) -> None:
        self._get("/", name, self.cookie)

    def _review_list_api(self, name: str) -> None:
        self._get(random.choice(self.me["list_queries"]), name, self.bearer)

    def _review_list_page(self, name: str) -> None:
        self._get(random.choice(self.me["list_pages"]), name, self.cookie)

    def _review_page(self, name: str) -> None:
        self._get(f"/reviews/{random.choice(self.me['review_ids'])}", name, self.cookie)

    def _review_api(self, name: str) -> None:
        self._get(f"/api/v1/reviews/{random.choice(self.me['review_ids'])}", name, self.bearer)

    def _event(self, name: str) -> None:
        body = {"event": "resume"} if self.pended else {
            "event": "pend", "data": {"reason": "Criminal trial listed; the panel waits for its outcome.", "expected_resume_on": "2027-06-01"}}
        with self.client.post(f"/api/v1/reviews/{self.event_review}/events", json=body, headers=self.bearer,
                              name=name, catch_response=True) as response:
            if response.status_code == 200:
                self.pended = not self.pended
            else:
                response.failure(f"{response.status_code} from {name}: {response.text[:200]}")

    def _document(self, name: str) -> None:
        with self.client.post(f"/api/v1/reviews/{self.me['document_review']}/documents", json={"kind": "executive_summary"},
                              headers=self.bearer, name=name, catch_response=True) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code} from {name}: {response.text[:200]}")
