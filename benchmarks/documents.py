"""How long the largest Overview Report takes to make: `make bench-documents`.

Builds one review far larger than any real one (30 agencies, 2,000 chronology entries, 60
recommendations with 200 actions, 60,000 words of overview text, 12 people to pseudonymise) in a
throwaway SQLite database (or --database-url), then times each report through the same service
the API calls: render, scan for identifiers, store. Prints min / median / max over --repeat runs,
and the PDF conversion once where LibreOffice is installed. A benchmark, not a test: nothing here
passes or fails.

    .venv/bin/python benchmarks/documents.py [--repeat 5] [--database-url URL]
"""
from __future__ import annotations

import argparse
import json
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

AGENCIES = 30
ENTRIES = 2000
RECOMMENDATIONS = 60
ACTIONS = 200
SECTION_WORDS = 7500  # x 8 sections = 60,000 words
PEOPLE = 12
FILLER = ("Agencies shared what they knew at the multi-agency meeting, and the panel examined the risk "
          "assessment, the referral to the IDVA service and the follow-up that did not happen. ").split()


def words(n: int, seed: int) -> str:
    """n words of plausible text in paragraphs of about 120 words."""
    out, line = [], []
    for i in range(n):
        line.append(FILLER[(i + seed) % len(FILLER)])
        if len(line) == 120:
            out.append(" ".join(line))
            line = []
    out.append(" ".join(line))
    return "\n".join(out)


def build(session) -> str:
    from app.actions.models import Action
    from app.auth.models import User
    from app.deadlines.models import Deadline
    from app.imrs.models import ChronologyEntry, Imr
    from app.overview.models import OVERVIEW_SECTIONS, Overview, Recommendation
    from app.panel.models import PanelMember
    from app.partnerships.models import Agency, Csp
    from app.people.models import Person
    from app.reviews.models import Review
    from app.terms.models import TermsOfReference

    csp = Csp(name="Benchmarkshire Community Safety Partnership", code="BENCH", region="East of England")
    chair = User(email="chair@bench.example", name="Bea Benchmark", password_hash="-")
    session.add_all([csp, chair])
    session.flush()
    day = dt.date(2026, 1, 5)
    review = Review(
        reference="DHR-2026-BENCH-001", csp_id=csp.id, state="drafting", workflow_name="dhr-2011", workflow_version=1,
        notified_on=day, notified_by="Benchmarkshire Police", date_of_death=day - dt.timedelta(days=3), death_type="homicide",
        relationship="intimate_partner", victim_age=41, summary=words(200, 1), decided_on=day + dt.timedelta(days=10),
        decision="review", decision_rationale=words(120, 2), home_office_notified_on=day + dt.timedelta(days=12),
        terms_agreed_on=day + dt.timedelta(days=20),
    )
    session.add(review)
    session.flush()
    session.add(Deadline(review_id=review.id, kind="overview_report", subject_id="", starts_on=review.decided_on,
                         due_on=dt.date(2026, 7, 15), original_due_on=dt.date(2026, 7, 15)))
    session.add(PanelMember(review_id=review.id, user_id=chair.id, role="chair", independence_statement=words(80, 3)))
    for i in range(PEOPLE):
        session.add(Person(review_id=review.id, role="victim" if i == 0 else "family", name=f"Benchperson{i} Surname{i}",
                           pseudonym=f"Adult {chr(65 + i)}", aliases=[f"Alias{i}"], date_of_birth=dt.date(1970 + i, 1 + i % 12, 1 + i),
                           address=f"{i} Example Street, Benchtown BT{i} 1AA", relationship="family"))
    session.add(TermsOfReference(review_id=review.id, version=1, period_from=dt.date(2021, 1, 1), period_to=day,
                                 key_lines_of_enquiry=[words(30, i) for i in range(12)], coercive_control=True,
                                 equality_and_diversity=True, text=words(1500, 4), created_by=chair.id))
    imrs = []
    for a in range(AGENCIES):
        agency = Agency(name=f"Benchmark Agency {a:02d}", kind="other", email=f"a{a}@bench.example")
        session.add(agency)
        session.flush()
        imr = Imr(review_id=review.id, agency_id=agency.id, state="accepted" if a % 6 else "no_involvement",
                  workflow_name="imr-2011", workflow_version=1, commissioned_on=day + dt.timedelta(days=21),
                  due_on=day + dt.timedelta(days=77), author_name=f"Author {a}", independence_confirmed=True)
        session.add(imr)
        imrs.append(imr)
    session.flush()
    contributing = [imr for imr in imrs if imr.state == "accepted"]
    for e in range(ENTRIES):
        imr = contributing[e % len(contributing)]
        session.add(ChronologyEntry(imr_id=imr.id, review_id=review.id, occurred_on=dt.date(2021, 1, 1) + dt.timedelta(days=e % 1800),
                                    description=words(60, e), seen=["Adult A"], views_expressed=words(15, e), staff=f"Officer {e % 97}",
                                    interviewed=bool(e % 2)))
    session.add(Overview(review_id=review.id, **{name: words(SECTION_WORDS, n) for n, name in enumerate(OVERVIEW_SECTIONS)},
                         dissemination=[f"Recipient {i}" for i in range(20)]))
    recommendations = []
    for r in range(RECOMMENDATIONS):
        rec = Recommendation(review_id=review.id, number=r + 1, text=words(40, r), scope="local",
                             imr_id=contributing[r % len(contributing)].id if r % 2 else None)
        session.add(rec)
        recommendations.append(rec)
    session.flush()
    for n in range(ACTIONS):
        rec = recommendations[n % RECOMMENDATIONS]
        session.add(Action(recommendation_id=rec.id, review_id=review.id, state="agreed", workflow_name="action-2011", workflow_version=1,
                           action=words(40, n), lead_agency_id=contributing[n % len(contributing)].agency_id,
                           target_date=dt.date(2027, 1, 1) + dt.timedelta(days=n), outcome_measure=words(20, n), milestones=words(20, n + 1)))
    return review.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="default: a throwaway SQLite file")
    parser.add_argument("--json", action="store_true", help="end with one line of JSON (for benchmarks/run.py)")
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDF conversion")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="dhr-bench-")
    os.environ["DHR_DATABASE_URL"] = args.database_url or f"sqlite:///{workdir}/bench.sqlite3"

    from app.core import clock
    from app.core.db import session_scope
    from app.core.migrate import upgrade
    from app.documents import pdf, service
    from app.reviews.models import Review

    print(f"bench: migrating {os.environ['DHR_DATABASE_URL'].split('@')[-1]}", flush=True)
    upgrade()
    clock.set_today(dt.date(2026, 8, 1))
    started = time.perf_counter()
    with session_scope() as session:
        review_id = build(session)
    # Generate as a served worker does: readied by app/core/warmup.py (compiled templates, the garbage
    # collector's settings), as app/asgi.py readies each worker before it takes requests.
    from app.core.warmup import warm_up

    warm_up()
    print(f"bench: built the review ({AGENCIES} agencies, {ENTRIES:,} chronology entries, {RECOMMENDATIONS} recommendations, "
          f"{ACTIONS} actions, {8 * SECTION_WORDS:,} words of overview) in {time.perf_counter() - started:.1f} s", flush=True)

    results = {}
    for kind, variant in (("overview_report", "restricted"), ("overview_report", "publication"),
                          ("executive_summary", "publication"), ("action_plan", "publication")):
        times, size = [], 0
        for run in range(args.repeat):
            with session_scope() as session:
                review = session.get(Review, review_id)
                t0 = time.perf_counter()
                document = service.generate(session, review=review, kind=kind, variant=variant, imr_id=None, principal=None, review_roles=set())
                session.flush()
                times.append(time.perf_counter() - t0)
                size = document.size
            print(f"bench: {kind} ({variant}) run {run + 1}/{args.repeat}: {times[-1]:.3f} s", flush=True)
        results[(kind, variant)] = (times, size)

    print("\nDocument generation (render + identifier scan + store), seconds:")
    print(f"{'document':<34} {'min':>7} {'median':>7} {'max':>7} {'size':>10}")
    for (kind, variant), (times, size) in results.items():
        print(f"{kind + ' (' + variant + ')':<34} {min(times):7.3f} {statistics.median(times):7.3f} {max(times):7.3f} {size / 1024:8.0f} KB")

    if args.no_pdf:
        pass
    elif pdf.available():
        with session_scope() as session:
            from sqlalchemy import select

            from app.documents.models import Document

            content = session.scalars(select(Document.content).where(Document.kind == "overview_report").limit(1)).one()
        t0 = time.perf_counter()
        converted = pdf.to_pdf(content)
        print(f"\nPDF of the largest Overview Report (LibreOffice): {time.perf_counter() - t0:.1f} s, {len(converted) / 1024:.0f} KB")
    else:
        print("\nPDF: LibreOffice (soffice) is not installed here; not measured.")
    if args.json:
        largest = results[("overview_report", "restricted")][0] + results[("overview_report", "publication")][0]
        print(json.dumps({"overview_report_max_seconds": max(largest), "overview_report_median_seconds": statistics.median(largest)}))


if __name__ == "__main__":
    main()
