"""The national dataset: the demonstration county copied out to every partnership in England and Wales.

`dhr demo` plays a dozen reviews through the real API code, one at every stage of the workflow, in six
partnerships. This module reads those rows back as templates and writes copies of them with PostgreSQL's
COPY until the database holds the national sizes (SIZES): the six partnerships, their agencies and users
copied per "group"; each review copied many times into a group's partnership; each copy's IMRs,
chronology, actions and history padded out to the proportions of a large real review. Everything a copy
points at is remapped to the copy's own rows, so a copied review is as consistent as its template:
the same state, deadlines, guards and documents' inputs, readable by the same roles.

Copies differ from their template only in ids, partnership codes, references, agency names and email
addresses; dates are the template's, which the demo played relative to today. Each review's history
chain is re-hashed with the server's key, so `dhr verify-history` passes on the result. Generated
documents and sent mail are not copied: they are outputs, which the benchmark makes itself.

Every person here is invented (the demo's people).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

# The national sizes: ten times a year's reviews kept for several years (issue 8).
SIZES = {
    "full": dict(partnerships=320, reviews=10_000, imrs=60_000, chronology=300_000, actions=100_000, history=1_000_000),
    "quick": dict(partnerships=32, reviews=1_000, imrs=6_000, chronology=30_000, actions=10_000, history=100_000),
}


def sweep_size(reviews: int, open_reviews: int) -> dict:
    """For the sweep's scaling: a fixed number of open reviews (with the demo's own rows only), and the
    rest finished reviews with their closed deadlines, as years of use leave them."""
    return dict(partnerships=320, reviews=reviews, open=open_reviews, imrs=0, chronology=0, actions=0, history=0, bare_closed=True,
                closed_states={"concluded", "not_reviewed"})  # every deadline of these is met or waived
CLOSED_STATES = {"concluded", "published", "not_reviewed", "publication_withheld"}
CLOSED_SHARE = 0.6  # most reviews in a national system are long finished
# Each copy's timeline is moved back by up to this many days, so that the copies' deadlines and alerts
# fall due on different days as real reviews' do (the demo's twelve would otherwise all fall due together).
SPREAD_DAYS = 61
# Rows the copies leave out: outputs (documents, mail) and per-person state (tokens, throttles).
NOT_COPIED = {"documents", "outbox", "api_tokens", "sign_in_throttles", "history_heads", "reference_counters"}
# The biggest tables, which no foreign key points at: loaded first, indexed afterwards.
INDEXED_AFTERWARDS = {"history", "chronology_entries"}
SETUP_TABLES = {"csps", "agencies", "users", "user_roles", "document_templates"}
PADDING_AGENCY_KINDS = [
    ("GP Practice", "health"), ("Ambulance Service", "health"), ("Children's Services", "local_authority"),
    ("Drug and Alcohol Service", "voluntary"), ("Domestic Abuse Service", "voluntary"), ("Housing Options", "housing"),
    ("Fire and Rescue Service", "other"), ("Jobcentre", "other"), ("Sixth Form College", "education"),
    ("Victim Support", "voluntary"), ("Community Mental Health Team", "health"), ("Substance Misuse Team", "health"),
]


def padded_id(*parts: Any) -> str:
    """A deterministic 32-character id for a row the copies add (ids are opaque; see app.core.ids)."""
    return hashlib.md5("/".join(map(str, parts)).encode()).hexdigest()


@dataclass
class Templates:
    """The demo's rows, by table, and which ids belong to set-up rows or to a review."""

    rows: dict[str, list[dict]]
    setup_ids: set[str] = field(default_factory=set)
    case_ids: set[str] = field(default_factory=set)
    review_of: dict[str, str] = field(default_factory=dict)  # any case row's id -> its review's id

    @classmethod
    def read(cls, connection, metadata) -> "Templates":
        rows = {t.name: [dict(r._mapping) for r in connection.execute(t.select())] for t in metadata.sorted_tables}
        self = cls(rows)
        for name, table_rows in rows.items():
            for row in table_rows:
                if "id" not in row or not isinstance(row["id"], str):
                    continue
                if name in SETUP_TABLES:
                    self.setup_ids.add(row["id"])
                elif row.get("review_id") or name == "deadline_extensions":
                    self.case_ids.add(row["id"])
        for review in rows["reviews"]:
            self.case_ids.add(review["id"])
        deadline_review = {d["id"]: d["review_id"] for d in rows["deadlines"]}
        for name, table_rows in rows.items():
            for row in table_rows:
                if row.get("review_id") and "id" in row:
                    self.review_of[row["id"]] = row["review_id"]
                elif name == "deadline_extensions":
                    self.review_of[row["id"]] = deadline_review[row["deadline_id"]]
        return self

    def of_review(self, table: str) -> dict[str, list[dict]]:
        grouped: dict[str, list[dict]] = defaultdict(list)
        for row in self.rows[table]:
            grouped[self.review_of[row["id"]] if table == "deadline_extensions" else row["review_id"]].append(row)
        return grouped


@dataclass(frozen=True)
class Copy:
    """One review of the national dataset: copy number `n` of a template review, in group `group`."""

    template: dict
    n: int
    group: int
    extra_imrs: int = 0
    extra_chronology: int = 0  # per IMR of this copy
    extra_actions: int = 0
    extra_history: int = 0
    bare: bool = False  # only the review and its deadlines (the sweep's scaling runs: finished reviews)
    shift: int = 0  # days this copy's timeline lies before its template's, so copies fall due on different days


class Remap:
    """Maps a template id (anywhere: columns, JSON) to the id of the same row in a copy and group."""

    def __init__(self, templates: Templates):
        self.setup = templates.setup_ids
        self.case = templates.case_ids

    # A copy's id starts with a letter that is not a hex digit, so it never equals an id of the demo's
    # own rows (copy 0 keeps those): with "c", a demo id that happened to begin "c" and a copy's number
    # (a chance of about one in twenty thousand per id) met its own copy, and the load failed on a
    # duplicate key.
    @staticmethod
    def in_group(value: str, group: int) -> str:
        return value if group == 0 else f"g{group:05x}{value[6:]}"

    @staticmethod
    def in_copy(value: str, n: int) -> str:
        return value if n == 0 else f"r{n:05x}{value[6:]}"

    def value(self, value: Any, n: int, group: int, shift: dt.timedelta | None = None) -> Any:
        if shift and isinstance(value, dt.date):  # datetimes too
            return value - shift
        if isinstance(value, str):
            if value in self.case:
                return self.in_copy(value, n)
            if value in self.setup:
                return self.in_group(value, group)
            return value
        if isinstance(value, dict):
            return {k: self.value(v, n, group) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, n, group) for v in value]
        return value

    def row(self, row: dict, n: int, group: int, shift: int = 0) -> dict:
        delta = dt.timedelta(days=shift) if shift else None
        return {k: self.value(v, n, group, delta) for k, v in row.items()}

    def of(self, copy: "Copy", row: dict) -> dict:
        """A case row of the template, as it is in this copy: ids remapped, dates moved back."""
        return self.row(row, copy.n, copy.group, copy.shift)


def plan_copies(templates: Templates, size: dict) -> tuple[int, list[Copy]]:
    """How many groups of partnerships, and each review copy with its share of the padding."""
    groups = math.ceil(size["partnerships"] / len(templates.rows["csps"]))
    reviews = templates.rows["reviews"]
    closed = [r for r in reviews if r["state"] in size.get("closed_states", CLOSED_STATES)]
    open_ = [r for r in reviews if r["state"] not in CLOSED_STATES]
    open_reviews = size.get("open", round(size["reviews"] * (1 - CLOSED_SHARE)))
    per_template = {r["id"]: round((size["reviews"] - open_reviews) / len(closed)) for r in closed}
    per_template.update({r["id"]: round(open_reviews / len(open_)) for r in open_})
    copies = []
    # Copy 0 of every template first (the demo's own rows), so its references keep their numbers.
    for n in range(max(per_template.values())):
        for template in reviews:
            if n < per_template.get(template["id"], 0):
                copies.append(Copy(template=template, n=n, group=n % groups))

    imrs, chronology = templates.of_review("imrs"), templates.of_review("chronology_entries")
    actions, history = templates.of_review("actions"), templates.of_review("history")
    with_imrs = [c for c in copies if imrs.get(c.template["id"])]
    with_actions = [c for c in copies if actions.get(c.template["id"])]
    base_imrs = sum(len(imrs[c.template["id"]]) for c in with_imrs)
    extra_imrs = spread(size["imrs"] - base_imrs, len(with_imrs))
    all_imrs = base_imrs + sum(extra_imrs)
    base_chronology = sum(len(chronology.get(c.template["id"], [])) for c in copies)
    per_imr = max(0, math.ceil((size["chronology"] - base_chronology) / max(all_imrs, 1)))  # at least the size asked
    base_actions = sum(len(actions[c.template["id"]]) for c in with_actions)
    extra_actions = spread(size["actions"] - base_actions, len(with_actions))
    base_history = sum(len(history.get(c.template["id"], [])) for c in copies)
    extra_history = spread(size["history"] - base_history, len(copies))

    imr_share = dict(zip((id(c) for c in with_imrs), extra_imrs))
    action_share = dict(zip((id(c) for c in with_actions), extra_actions))
    planned = []
    for i, c in enumerate(copies):
        planned.append(Copy(template=c.template, n=c.n, group=c.group, shift=(c.n * 7919) % SPREAD_DAYS if c.n else 0,
                            extra_imrs=imr_share.get(id(c), 0),
                            extra_chronology=per_imr if imrs.get(c.template["id"]) else 0,
                            extra_actions=action_share.get(id(c), 0), extra_history=extra_history[i]))
    return groups, planned


def spread(total: int, among: int) -> list[int]:
    """total split as evenly as whole numbers allow among `among` (none below zero)."""
    if among == 0 or total <= 0:
        return [0] * among
    share, rest = divmod(total, among)
    return [share + (1 if i < rest else 0) for i in range(among)]


class Writer:
    """Rows out through COPY, table by table, counting as it goes."""

    def __init__(self, dbapi_connection, metadata, echo: Callable[[str], None]):
        self.connection = dbapi_connection
        self.metadata = metadata
        self.echo = echo
        self.counts: dict[str, int] = {}

    def copy(self, table_name: str, rows: Iterable[dict]) -> int:
        if table_name in INDEXED_AFTERWARDS:
            with self.connection.cursor() as cursor:
                constraints, indexes = _drop_indexes(cursor, table_name)
            count = self._copy(table_name, rows)
            started = time.monotonic()
            with self.connection.cursor() as cursor:
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
                for name, definition in constraints:
                    cursor.execute(f'ALTER TABLE {table_name} ADD CONSTRAINT "{name}" {definition}')
                for _name, definition in indexes:
                    cursor.execute(definition)
            self.echo(f"  {'':<22} {'':>10}  its {len(constraints) + len(indexes)} indexes built in {time.monotonic() - started:5.1f} s")
            return count
        return self._copy(table_name, rows)

    def _copy(self, table_name: str, rows: Iterable[dict]) -> int:
        table = self.metadata.tables[table_name]
        columns = [c.name for c in table.columns]
        json_columns = {c.name for c in table.columns if c.type.__class__.__name__ in ("JSON", "JSONB")}
        started, count = time.monotonic(), 0
        with self.connection.cursor() as cursor:
            with cursor.copy(f'COPY {table_name} ({", ".join(f"{chr(34)}{c}{chr(34)}" for c in columns)}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row([json.dumps(row[c]) if c in json_columns and row.get(c) is not None else row.get(c) for c in columns])
                    count += 1
        self.counts[table_name] = self.counts.get(table_name, 0) + count
        self.echo(f"  {table_name:<22} {count:>10,} rows in {time.monotonic() - started:5.1f} s")
        return count


def _drop_indexes(cursor, table: str) -> tuple[list, list]:
    """Drop a table's unique constraints and indexes (no foreign key may point at them); returns how
    to make them again. Building an index once over a million rows is much faster than keeping it
    up to date through a million random inserts."""
    cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype IN ('p', 'u')", (table,))
    constraints = cursor.fetchall()
    cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s "
                   "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)", (table, table))
    indexes = cursor.fetchall()
    for name, _definition in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return constraints, indexes


def build(engine, metadata, size: dict, *, secret: bytes, echo: Callable[[str], None] = print) -> dict[str, int]:
    """Replace the demo's rows in `engine`'s database with the national dataset; returns rows per table."""
    from app.audit import chain

    with engine.connect() as connection:
        templates = Templates.read(connection, metadata)
    groups, copies = plan_copies(templates, size)
    if size.get("bare_closed"):
        copies = [c if c.template["state"] not in CLOSED_STATES or c.n == 0 else Copy(c.template, c.n, c.group, bare=True, shift=c.shift) for c in copies]
    remap = Remap(templates)
    echo(f"Copying {len(templates.rows['reviews'])} template reviews into {len(copies):,} reviews in "
         f"{groups * len(templates.rows['csps'])} partnerships ({groups} groups of {len(templates.rows['csps'])}) ...")

    raw = engine.raw_connection()
    try:
        dbapi = raw.driver_connection
        with dbapi.cursor() as cursor:
            names = ", ".join(t.name for t in metadata.sorted_tables)
            cursor.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
            # The copies are consistent by construction, so the foreign keys' per-row checks (a third of
            # the load's time) are skipped, as pg_restore --disable-triggers does; this needs a superuser,
            # which the benchmark's own cluster has. Elsewhere the checks simply run.
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if cursor.fetchone()[0]:
                cursor.execute("SET LOCAL session_replication_role = replica")
        writer = Writer(dbapi, metadata, echo)
        padding_agencies = max((c.extra_imrs for c in copies), default=0)
        _write_setup(writer, templates, remap, groups, padding_agencies)
        references = _write_reviews(writer, templates, remap, copies)
        _write_case_rows(writer, templates, remap, copies)
        _write_history(writer, templates, remap, copies, secret, chain)
        _write_outputs_of_the_demo(writer, templates, copies)
        with dbapi.cursor() as cursor:
            for (csp_id, year), last in sorted(references.items()):
                cursor.execute("INSERT INTO reference_counters (csp_id, year, last) VALUES (%s, %s, %s)", (csp_id, year, last))
        writer.counts["reference_counters"] = len(references)
        dbapi.commit()
        echo("Analysing the tables (ANALYZE) ...")
        dbapi.autocommit = True
        with dbapi.cursor() as cursor:
            cursor.execute("ANALYZE")
        dbapi.autocommit = False
    finally:
        raw.close()
    return writer.counts


def _write_setup(writer: Writer, templates: Templates, remap: Remap, groups: int, padding_agencies: int) -> None:
    rows = templates.rows

    def csps() -> Iterator[dict]:
        for g in range(groups):
            for row in rows["csps"]:
                out = remap.row(row, 0, g)
                if g:
                    out["code"], out["name"] = f"{row['code']}{g:02d}", f"{row['name']} ({g})"
                yield out

    def agencies() -> Iterator[dict]:
        for g in range(groups):
            for row in rows["agencies"]:
                out = remap.row(row, 0, g)
                if g:
                    out["name"] = f"{row['name']} ({g})"
                yield out
            for a in range(padding_agencies):
                label, kind = PADDING_AGENCY_KINDS[a % len(PADDING_AGENCY_KINDS)]
                yield {**rows["agencies"][0], "id": padded_id("agency", g, a), "name": f"Fenmoor {label} {a + 1} ({g})",
                       "kind": kind, "email": f"safeguarding.{a + 1}@fenmoor.example.org"}

    def users() -> Iterator[dict]:
        for g in range(groups):
            for row in rows["users"]:
                out = remap.row(row, 0, g)
                if g:
                    local, domain = row["email"].split("@")
                    out["email"] = f"{local}+g{g}@{domain}"
                yield out

    writer.copy("csps", csps())
    writer.copy("agencies", agencies())
    writer.copy("users", users())
    writer.copy("user_roles", (remap.row(r, 0, g) for g in range(groups) for r in rows["user_roles"]))
    writer.copy("document_templates", (remap.row(r, 0, g) for g in range(groups) for r in rows["document_templates"]))


def _write_reviews(writer: Writer, templates: Templates, remap: Remap, copies: list[Copy]) -> dict:
    """Reviews, numbered per partnership and year as next_reference would; returns the counters."""
    code_of = {c["id"]: c["code"] for c in templates.rows["csps"]}
    counters: dict[tuple[str, int], int] = {}

    def reviews() -> Iterator[dict]:
        for c in copies:
            out = remap.of(c, c.template)
            year = out["notified_on"].year
            key = (out["csp_id"], year)
            if c.n == 0:
                number = int(c.template["reference"].rsplit("-", 1)[1])
            else:
                number = counters.get(key, 0) + 1
                code = code_of[c.template["csp_id"]] + (f"{c.group:02d}" if c.group else "")
                out["reference"] = f"DHR-{year}-{code}-{number:03d}"
            counters[key] = max(counters.get(key, 0), number)
            yield out

    writer.copy("reviews", reviews())
    return counters


def _write_case_rows(writer: Writer, templates: Templates, remap: Remap, copies: list[Copy]) -> None:
    """Every table about a review but the history, in an order that satisfies the foreign keys."""
    by_review = {name: templates.of_review(name) for name in templates.rows
                 if name not in SETUP_TABLES | NOT_COPIED | {"reviews", "history"}}
    imr_deadline = {d["subject_id"]: d for d in templates.rows["deadlines"] if d["kind"] == "imr"}
    action_deadline = {d["subject_id"]: d for d in templates.rows["deadlines"] if d["kind"] == "action"}

    def extra_imrs(c: Copy) -> list[tuple[dict, dict]]:
        """(padding IMR, its template IMR) for this copy: the template's IMRs again, for other agencies."""
        template_imrs = by_review["imrs"].get(c.template["id"], [])
        out = []
        for x in range(c.extra_imrs):
            source = template_imrs[x % len(template_imrs)]
            imr = remap.of(c, source)
            imr["id"] = padded_id("imr", c.n, c.template["id"], x)
            imr["agency_id"] = padded_id("agency", c.group, x)
            out.append((imr, source))
        return out

    def extra_actions(c: Copy) -> list[tuple[dict, dict]]:
        template_actions = by_review["actions"].get(c.template["id"], [])
        out = []
        for x in range(c.extra_actions):
            source = template_actions[x % len(template_actions)]
            action = remap.of(c, source)
            action["id"] = padded_id("action", c.n, c.template["id"], x)
            out.append((action, source))
        return out

    def table_rows(name: str) -> Iterator[dict]:
        for c in copies:
            if c.bare and name != "deadlines":
                continue
            own = by_review[name].get(c.template["id"], [])
            for row in own:
                yield remap.of(c, row)
            if name == "imrs":
                for imr, _source in extra_imrs(c):
                    yield imr
            elif name == "actions":
                for action, _source in extra_actions(c):
                    yield action
            elif name == "deadlines":
                for imr, source in extra_imrs(c):
                    if source["id"] in imr_deadline:
                        deadline = remap.of(c, imr_deadline[source["id"]])
                        yield {**deadline, "id": padded_id("deadline", imr["id"]), "subject_id": imr["id"]}
                for action, source in extra_actions(c):
                    if source["id"] in action_deadline:
                        deadline = remap.of(c, action_deadline[source["id"]])
                        yield {**deadline, "id": padded_id("deadline", action["id"]), "subject_id": action["id"]}
            elif name == "chronology_entries" and c.extra_chronology:
                imrs = [remap.of(c, i) for i in by_review["imrs"].get(c.template["id"], [])]
                imrs += [imr for imr, _ in extra_imrs(c)]
                sources = own or [None]
                for imr in imrs:
                    for x in range(c.extra_chronology):
                        source = sources[x % len(sources)]
                        entry = remap.of(c, source) if source else _plain_entry(imr)
                        yield {**entry, "id": padded_id("entry", imr["id"], x), "imr_id": imr["id"], "review_id": imr["review_id"]}

    def rows_of(name: str) -> Iterator[dict]:
        if name != "deadlines":
            return table_rows(name)
        return (as_swept_today(d, review_of[d["review_id"]]) for d in table_rows(name))

    review_of = {remap.value(c.template["id"], c.n, c.group): c for c in copies}
    for table in writer.metadata.sorted_tables:
        if table.name in by_review:
            writer.copy(table.name, rows_of(table.name))


def as_swept_today(deadline: dict, copy: Copy) -> dict:
    """A moved copy's open deadline as today's sweep leaves it: overdue or not, and the day of its next
    alert counted from tomorrow (app/notifications/alerts.py), so the alerts its moved-back timeline
    passed count as sent, as they would have been."""
    if not copy.shift or deadline["met_on"] is not None or deadline["waived_on"] is not None:
        return deadline
    from app.core import clock
    from app.notifications.schedule import first_on_or_after
    from app.workflow.registry import get_registry

    today = clock.today()
    definition = get_registry().get(copy.template["workflow_name"], copy.template["workflow_version"])
    deadline["swept_status"] = "overdue" if deadline["due_on"] < today else "pending"
    if copy.template["state"] not in definition.alerts_paused_in:
        rule = definition.deadlines.get(deadline["kind"])
        step = first_on_or_after(rule.alerts, deadline["due_on"], today + dt.timedelta(days=1)) if rule and rule.alerts else None
        deadline["next_alert_on"] = step.on if step else None
    return deadline


def _plain_entry(imr: dict) -> dict:
    return {"occurred_on": imr["commissioned_on"] - dt.timedelta(days=200), "description": "Routine contact recorded by the agency; no concerns noted at the time.",
            "seen": ["victim"], "views_expressed": "", "staff": "", "interviewed": False, "created_at": imr["created_at"]}


def _write_history(writer: Writer, templates: Templates, remap: Remap, copies: list[Copy], secret: bytes, chain) -> None:
    """Each copy's chain: the template's rows remapped, then reads of its IMRs (what grows a real
    review's history most), all re-hashed; then every chain's head."""
    history = templates.of_review("history")
    imrs = templates.of_review("imrs")
    coordinator_of = {}
    for role in templates.rows["user_roles"]:
        if role["role"] == "csp_coordinator":
            coordinator_of[role["csp_id"]] = role["user_id"]
    names = {u["id"]: u["name"] for u in templates.rows["users"]}
    heads: list[dict] = []

    def rows() -> Iterator[dict]:
        for c in copies:
            if c.bare:
                continue
            own = sorted(history.get(c.template["id"], []), key=lambda r: r["seq"])
            prev, seq, last = chain.GENESIS, 0, None
            for row in own:
                out = remap.of(c, row)
                out["prev_hash"] = prev
                out["hash"] = prev = chain.row_hash(secret, out)
                seq, last = out["seq"], out
                yield out
            reader = coordinator_of.get(c.template["csp_id"])
            subjects = [remap.value(i["id"], c.n, c.group) for i in imrs.get(c.template["id"], [])] or [remap.value(c.template["id"], c.n, c.group)]
            at = last["at"] if last else c.template["created_at"]
            for x in range(c.extra_history):
                seq += 1
                at = at + dt.timedelta(minutes=7)
                subject = subjects[x % len(subjects)]
                out = {"id": padded_id("history", c.n, c.template["id"], x), "seq": seq,
                       "review_id": remap.value(c.template["id"], c.n, c.group),
                       "entity_type": "imr" if subject != remap.value(c.template["id"], c.n, c.group) else "review",
                       "entity_id": subject, "event": "read_imr" if imrs.get(c.template["id"]) else "read_review",
                       "from_state": None, "to_state": None, "on": at.date(), "at": at,
                       "actor_id": remap.in_group(reader, c.group) if reader else None,
                       "actor_name": names.get(reader, "System"), "data": {}, "changes": {}, "note": None, "prev_hash": prev}
                out["hash"] = prev = chain.row_hash(secret, out)
                yield out
            if seq:
                heads.append({"chain": remap.value(c.template["id"], c.n, c.group), "seq": seq, "hash": prev})
        # The administration chain (rows about no review) is the demo's own, unchanged.
        administration = sorted((r for r in templates.rows["history"] if r["review_id"] is None), key=lambda r: r["seq"])
        yield from administration
        if administration:
            heads.append({"chain": chain.ADMINISTRATION, "seq": administration[-1]["seq"], "hash": administration[-1]["hash"]})

    writer.copy("history", rows())
    writer.copy("history_heads", iter(heads))


def _write_outputs_of_the_demo(writer: Writer, templates: Templates, copies: list[Copy]) -> None:
    """The demo's own documents and mail (copy 0), so its reviews keep their files."""
    kept = {c.template["id"] for c in copies if c.n == 0 and not c.bare}
    writer.copy("documents", (d for d in templates.rows["documents"] if d["review_id"] in kept))
    writer.copy("outbox", (m for m in templates.rows["outbox"] if m["review_id"] is None or m["review_id"] in kept))
