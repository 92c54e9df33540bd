"""A served worker readies itself before it takes requests.

Without this, the first people after a start or a deploy wait while each worker compiles its page and
email templates and sets up its database mappings (a second or more each, in the benchmark's first
seconds). Afterwards everything made so far is frozen out of the garbage collector's reach: it lives
as long as the process, and a full collection no longer walks it (in the benchmark such collections
had paused a worker for 200-400 ms).
"""
from __future__ import annotations

import gc


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
