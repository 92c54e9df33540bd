"""One round of background work, the same for `dhr sweep` and the loop inside `dhr serve`:
sweep the deadlines as of a day (queueing alert emails), then send what is waiting."""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import traceback
from typing import Callable

from app.core import clock
from app.core.config import get_settings
from app.deadlines.sweep import SweepResult, sweep
from app.notifications.dispatch import DispatchResult, dispatch
from app.notifications.senders import sender_for

log = logging.getLogger("dhr.worker")


def run_once(on: dt.date, *, echo: Callable[[str], None] | None = None, processes: int = 1) -> tuple[SweepResult, DispatchResult]:
    swept = sweep(on, echo=echo, processes=processes)
    if echo:
        echo(swept.summary())
    sent = dispatch(echo=echo)
    if echo:
        echo(sent.summary(sender_for(get_settings()).describe()))
    return swept, sent


async def background_loop() -> None:
    """Sweep every sweep_interval_seconds (unless sweep_in_serve is off) and send waiting mail every
    mail_dispatch_interval_seconds."""
    settings = get_settings()
    last_sweep = float("-inf")
    while True:
        try:
            if settings.sweep_in_serve and time.monotonic() - last_sweep >= settings.sweep_interval_seconds:
                last_sweep = time.monotonic()
                swept, sent = await asyncio.to_thread(run_once, clock.today())
                log.info("%s %s", swept.summary(), sent.summary(sender_for(settings).describe()))
            else:
                sent = await asyncio.to_thread(dispatch)
                if sent.sent or sent.retrying or sent.failed:
                    log.info(sent.summary(sender_for(settings).describe()))
        except Exception as exc:  # the loop must outlive one failed round; the next one retries
            # Where it failed, never what the error says: a database error's message can quote a row.
            frames = traceback.extract_tb(exc.__traceback__)
            where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "unknown"
            log.error("background sweep or mail round failed (%s at %s); retrying in %s seconds",
                      type(exc).__name__, where, settings.mail_dispatch_interval_seconds)
        await asyncio.sleep(settings.mail_dispatch_interval_seconds)
