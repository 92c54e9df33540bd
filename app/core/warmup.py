"""A served worker readies itself before it takes requests.

Without this, the first people after a start or a deploy wait while each worker compiles its page and
email templates and sets up its database mappings (a second or more each, in the benchmark's first
seconds). Afterwards everything made so far is frozen out of the garbage collector's reach: it lives
as long as the process, and a full collection no longer walks it (in the benchmark such collections
had paused a worker for 200-400 ms).

The collector then runs less often (GC_THRESHOLDS). With Python's defaults (700, 10, 10) a worker
collected its youngest objects every few hundred allocations, and all of them, for 30-45 ms, every
forty or so reads: 1.5-2 ms of every read on average, and one read in forty 40 ms slower. The largest
Overview Report, which allocates over a million objects, met a full collection of 130 ms on most runs.
Garbage without cycles is freed at once whatever the thresholds; only cycles wait a little longer, and a
worker's peak memory did not change measurably.
"""
from __future__ import annotations

import gc

# Collect the youngest generation every 10,000 net allocations (not 700); the older two as Python does.
GC_THRESHOLDS = (10_000, 10, 10)


def warm_up() -> None:
    from sqlalchemy.orm import configure_mappers

    from app.notifications.messages import _environment as email_templates
    from app.web.templating import environment as page_templates
    from app.workflow.registry import get_registry

    configure_mappers()
    get_registry()
    for env in (page_templates(), email_templates()):
        for name in env.list_templates(extensions=["html", "txt"]):
            env.get_template(name)
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
