"""The benchmark's work inside one database (DHR_DATABASE_URL), one step per command, run by run.py.

    dataset.py national --size full|quick      migrate, load the demo, copy it out to the national size
    dataset.py sweep-scale --reviews N --open M as above, N reviews of which M open (the sweep's scaling)
    dataset.py sweep --on YYYY-MM-DD           one sweep, timed; prints JSON
    dataset.py clients --count N --out FILE    sign in N benchmark clients (tokens) and write what they do
    dataset.py plans --clients FILE            the query plans of every read kind and of the sweep

Each step prints what it did; the JSON steps print one JSON object on their last line.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import national  # noqa: E402

PENDABLE = ("scoping", "evidence", "drafting", "panel_review", "csp_signoff")
# Who the clients are, as shares of them: the CSP's officers and agency staff are most of the users.
ROLE_MIX = (("csp_chair", 0.3), ("csp_coordinator", 0.15), ("agency", 0.3), ("panel_chair", 0.1), ("home_office", 0.15))


def load(size: dict) -> None:
    from app.audit import chain
    from app.core import clock
    from app.core.db import Base, get_engine
    from app.core.migrate import upgrade
    from app.deadlines.sweep import sweep
    from app.demo import load_demo
    import app.main  # noqa: F401  (every model mapped)

    started = time.monotonic()
    print("Migrating ...", flush=True)
    upgrade()
    print("Loading the demonstration county (the templates) ...", flush=True)
    load_demo(echo=lambda line: None)
    # Swept up to today, as a running service keeps it, so every copy is too.
    print(sweep(clock.today()).summary(), flush=True)
    counts = national.build(get_engine(), Base.metadata, size, secret=chain.key(), echo=lambda line: print(line, flush=True))
    print(json.dumps({"seconds": round(time.monotonic() - started, 1), "rows": counts}))


def timed_sweep(on: dt.date) -> None:
    from app.core.db import session_scope
    from app.deadlines.sweep import due_review_ids, sweep
    from app.workflow.registry import get_registry

    get_registry()  # read once when the sweep service starts, not on each day's sweep
    with session_scope() as session:
        started = time.perf_counter()
        due = len(due_review_ids(session, on))
        find_seconds = time.perf_counter() - started
    started = time.perf_counter()
    result = sweep(on, processes=os.cpu_count() or 1)  # as the sweep service (`dhr sweep`) runs it
    seconds = time.perf_counter() - started
    print(result.summary())
    print(json.dumps({"on": on.isoformat(), "seconds": seconds, "find_seconds": find_seconds, "due_reviews": due,
                      "reviews_swept": result.reviews, "became_overdue": result.became_overdue, "emails": result.alerts.emails}))


def clients(count: int, out: Path) -> None:
    """count clients by ROLE_MIX, each a distinct person where there are enough, with a token each."""
    from sqlalchemy import text

    from app.auth.models import ApiToken
    from app.auth.security import new_token, token_digest
    from app.core.clock import now
    from app.core.db import session_scope

    made = []
    with session_scope() as session:
        q = lambda sql, **kw: session.execute(text(sql), kw).all()  # noqa: E731
        people = {
            "csp_chair": q("SELECT user_id, csp_id FROM user_roles WHERE role = 'csp_chair' ORDER BY user_id, csp_id"),
            "csp_coordinator": q("SELECT user_id, csp_id FROM user_roles WHERE role = 'csp_coordinator' ORDER BY user_id, csp_id"),
            "agency": q("SELECT user_id, agency_id FROM user_roles WHERE role IN ('imr_author', 'agency_manager') ORDER BY user_id"),
            "panel_chair": q("SELECT DISTINCT user_id, '' FROM panel_members WHERE role = 'chair' ORDER BY user_id"),
            "home_office": q("SELECT user_id, '' FROM user_roles WHERE role = 'home_office' ORDER BY user_id"),
        }
        taken: set[str] = set()
        for role, share in ROLE_MIX:
            for i in range(max(1, round(count * share))):
                user_id, scope = people[role][i % len(people[role])]
                client = {"role": role, "user_id": user_id}
                if role in ("csp_chair", "csp_coordinator"):
                    client["review_ids"] = [r[0] for r in q("SELECT id FROM reviews WHERE csp_id = :c ORDER BY reference LIMIT 20", c=scope)]
                    client["list_queries"] = [f"/api/v1/reviews?csp_id={scope}", f"/api/v1/reviews?csp_id={scope}&state=evidence",
                                              "/api/v1/reviews?overdue=true", "/api/v1/reviews?state=drafting"]
                    client["list_pages"] = ["/reviews?state=evidence", "/reviews?overdue=true"]
                elif role == "agency":
                    client["review_ids"] = [r[0] for r in q("SELECT review_id FROM imrs WHERE agency_id = :a ORDER BY review_id LIMIT 20", a=scope)]
                    client["list_queries"] = ["/api/v1/reviews", "/api/v1/reviews?overdue=true"]
                    client["list_pages"] = ["/reviews", "/reviews?overdue=true"]
                elif role == "panel_chair":
                    client["review_ids"] = [r[0] for r in q("SELECT review_id FROM panel_members WHERE user_id = :u ORDER BY review_id LIMIT 20", u=user_id)]
                    client["list_queries"] = ["/api/v1/reviews", "/api/v1/reviews?state=drafting"]
                    client["list_pages"] = ["/reviews", "/reviews?state=drafting"]
                else:
                    client["review_ids"] = [r[0] for r in q("SELECT id FROM reviews WHERE first_submitted_on IS NOT NULL ORDER BY reference LIMIT 20")]
                    client["list_queries"] = ["/api/v1/reviews?state=submitted", "/api/v1/reviews?overdue=true", "/api/v1/reviews?state=cleared"]
                    client["list_pages"] = ["/reviews?state=submitted", "/reviews?state=cleared"]
                if role == "csp_chair":
                    # A review of their own to pend and resume, and one to generate documents of; no two clients share one.
                    for key, states in (("event_review", PENDABLE), ("document_review", ("csp_signoff", "panel_review", "submitted"))):
                        rows = q("SELECT r.id FROM reviews r JOIN user_roles ur ON ur.csp_id = r.csp_id AND ur.role = 'csp_chair' "
                                 "WHERE ur.user_id = :u AND r.state = ANY(:s) ORDER BY r.reference", u=user_id, s=list(states))
                        free = [r[0] for r in rows if r[0] not in taken]
                        if free:
                            client[key] = free[0]
                            taken.add(free[0])
                token = new_token()
                session.add(ApiToken(user_id=user_id, token_hash=token_digest(token), expires_at=now() + dt.timedelta(hours=8)))
                client["token"] = token
                made.append(client)
    out.write_text(json.dumps(interleaved(made)))
    roles = {role: sum(1 for c in made if c["role"] == role) for role, _ in ROLE_MIX}
    print(f"{len(made)} clients signed in ({', '.join(f'{n} {r}' for r, n in roles.items())}); "
          f"{sum(1 for c in made if c.get('event_review'))} with a review of their own to pend and resume.")
    print(json.dumps({"clients": len(made), "roles": roles}))


def interleaved(made: list[dict]) -> list[dict]:
    """The clients in an order where every prefix keeps the role mix: Locust takes them in file order,
    so 32 clients are the first 32, and listed role by role they would all be CSP chairs."""
    counts = {role: sum(1 for c in made if c["role"] == role) for role, _ in ROLE_MIX}
    seen: dict[str, int] = {}
    placed = []
    for client in made:
        index = seen[client["role"]] = seen.get(client["role"], -1) + 1
        placed.append(((index + 0.5) / counts[client["role"]], client))
    return [client for _, client in sorted(placed, key=lambda pair: pair[0])]


PLAN_NODE = re.compile(r"((?:Index Only Scan|Index Scan|Bitmap Index Scan) (?:using|on) \w+|Seq Scan on \w+)")


def plans(clients_file: Path, full: Path) -> None:
    """Each read kind's SQL, as one of its clients runs it, and the sweep's: PostgreSQL's plan of each."""
    from fastapi.testclient import TestClient

    from app.core.db import get_engine
    from app.deadlines.sweep import due_review_ids
    from app.core.db import session_scope
    from app.main import create_app
    from app.ops.plans import capture, explain_all

    people = json.loads(clients_file.read_text())
    engine = get_engine()
    client = TestClient(create_app(), base_url="http://127.0.0.1")
    requests = []
    for role in ("csp_chair", "agency", "home_office"):
        me = next(c for c in people if c["role"] == role)
        bearer, cookie = {"Authorization": f"Bearer {me['token']}"}, {"dhr_session": me["token"]}
        requests += [(f"home page ({role})", "/", {}, cookie), (f"review list ({role})", me["list_queries"][-1], bearer, {}),
                     (f"review page ({role})", f"/reviews/{me['review_ids'][0]}", {}, cookie)]
    seq_scans = 0
    for title, path, headers, cookies in requests:
        client.cookies.clear()
        for name, value in cookies.items():
            client.cookies.set(name, value)
        with capture(engine) as statements:
            response = client.get(path, headers=headers)
        found = explain_all(engine, statements)
        seq_scans += sum(len(p.seq_scans) for p in found)
        show(f"{title}: GET {path.split('?')[0]} -> {response.status_code}, {len(statements)} statements, {len(found)} distinct", found)
    with capture(engine) as statements:
        with session_scope() as session:
            due_review_ids(session, dt.date.today() + dt.timedelta(days=1))
    found = explain_all(engine, statements)
    seq_scans += sum(len(p.seq_scans) for p in found)
    show("the sweep's search for due reviews", found)
    full.write_text("\n\n".join(everything))
    print(f"(every plan in full: {full})")
    print(json.dumps({"sequential_scans_of_big_tables": seq_scans}))


everything: list[str] = []


def show(title: str, found: list) -> None:
    """One line per statement: what it reads and how (the index, or the table read whole)."""
    from app.ops.plans import report

    everything.append(report(title, found))
    print(f"== {title}")
    for plan in found:
        ways = sorted(set(PLAN_NODE.findall(plan.text)))
        sql = " ".join(plan.statement.sql.split())
        table = (re.search(r"FROM (\w+)", sql) or re.search(r"(\w+)", sql)).group(1)
        print(f"   {table:<20} {'; '.join(ways) or 'no table read'}{'   <- reads a big table whole' if plan.seq_scans else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    steps = parser.add_subparsers(dest="step", required=True)
    steps.add_parser("national").add_argument("--size", choices=sorted(national.SIZES), default="full")
    scale = steps.add_parser("sweep-scale")
    scale.add_argument("--reviews", type=int, required=True)
    scale.add_argument("--open", type=int, required=True)
    steps.add_parser("sweep").add_argument("--on", type=dt.date.fromisoformat, required=True)
    made = steps.add_parser("clients")
    made.add_argument("--count", type=int, required=True)
    made.add_argument("--out", type=Path, required=True)
    planning = steps.add_parser("plans")
    planning.add_argument("--clients", type=Path, required=True)
    planning.add_argument("--out", type=Path, required=True, help="where to write every plan in full")
    args = parser.parse_args()
    if args.step == "national":
        load(national.SIZES[args.size])
    elif args.step == "sweep-scale":
        load(national.sweep_size(args.reviews, args.open))
    elif args.step == "sweep":
        timed_sweep(args.on)
    elif args.step == "clients":
        clients(args.count, args.out)
    else:
        plans(args.clients, args.out)


if __name__ == "__main__":
    main()
