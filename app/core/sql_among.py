"""`column IN (subquery)`, spelt so that PostgreSQL can combine it with an index (issue 8).

Beside other conditions in an OR (a reader sees a review through their partnership, the Home Office's
submissions, or a panel seat), PostgreSQL runs an `IN (subquery)` as a filter on every row it reads,
so the OR reads the whole table. Spelt `column = ANY(ARRAY(subquery))`, the subquery runs once before
the scan and its ids become an index condition, and a BitmapOr joins it to the indexes of the other
conditions. SQLite (and anything else) gets the plain `IN`.
"""
from __future__ import annotations

from sqlalchemy import Boolean, ColumnElement
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal


class Among(ColumnElement[bool]):
    inherit_cache = True
    type = Boolean()
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement), ("query", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: ColumnElement, query) -> None:
        self.column = column
        self.query = query


def among(column: ColumnElement, query) -> Among:
    """`column` is one of the values `query` (a select or a union of selects of one column) returns."""
    return Among(column, query)


@compiles(Among)
def _in(element: Among, compiler, **kw) -> str:
    return compiler.process(element.column.in_(element.query), **kw)


@compiles(Among, "postgresql")
def _any_array(element: Among, compiler, **kw) -> str:
    return f"{compiler.process(element.column, **kw)} = ANY(ARRAY({compiler.process(element.query, **kw)}))"
