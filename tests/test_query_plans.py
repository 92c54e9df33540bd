"""Every filter of the API's lists, the deadline sweep and the mail dispatcher reach the big tables
through an index (issue 8, item 3), on PostgreSQL.

The SQL each request actually runs is captured (app/ops/plans.py) and PostgreSQL is asked for its plan
with sequential scans switched off: a "Seq Scan" on reviews, deadlines, IMRs, chronology, actions,
history or outbox is then one that no index can avoid, whatever the table's size. Run with -s to see
every plan.
"""
from __future__ import annotations

import pytest

from app.core import clock
from app.core.db import get_engine
from app.deadlines.sweep import sweep
from app.notifications.dispatch import dispatch
from app.ops import plans
from tests.support import ok
from tests.test_query_counts import TODAY, Data, requests_for

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _check(title: str, work) -> list[str]:
    engine = get_engine()
    with plans.capture(engine) as statements:
        work()
    assert statements, f"{title}: no SQL was captured, so nothing was checked"
    found = plans.explain_all(engine, statements)
    print(plans.report(title, found))
    return [f"{title}: Seq Scan on {', '.join(p.seq_scans)} in\n  {' '.join(p.statement.sql.split())[:500]}\n{p.text}"
            for p in found if p.seq_scans]


def test_every_list_filter_reads_the_big_tables_through_an_index(app, api, world, database_url):
    data = Data(api, world)
    data.grow(reviews=2, per_review=2)
    clock.set_today(TODAY)
    problems = []
    for who, path, params in requests_for(app, data):
        problems += _check(f"GET {path} {params} as {who}", lambda: ok(api.as_(who).get(path, params=params)))
    assert not problems, "\n\n".join(problems)


def test_the_sweep_and_the_mail_dispatcher_read_through_an_index(app, api, world, database_url):
    data = Data(api, world)
    data.grow(reviews=2, per_review=1)
    problems = _check("deadline sweep", lambda: sweep(TODAY))
    problems += _check("mail dispatch", lambda: dispatch())
    assert not problems, "\n\n".join(problems)
