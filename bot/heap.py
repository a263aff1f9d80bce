"""The interpreter's heap after start-up: set aside, so the garbage collector stops walking it.

A running bot keeps a large heap it built at start-up and never frees: the imported modules,
the content (flows, templates, catalogue), PTB's application and the due index (one entry per
user with a check-in). CPython's collector walks every tracked object of its oldest generation
on each full collection, and a check-in leaves enough cycles behind to start one about every
600 check-ins: 72 ms with the event loop held at 10,000 users (``bench/README.md``, "Session
24"), most of it spent on that start-up heap. ``gc.freeze`` moves what is alive into the
permanent generation no collection visits; objects freed later by reference counting are still
freed, and what is created afterwards is collected as before.
"""

from __future__ import annotations

import gc
import logging

__all__ = ["settle_heap"]

log = logging.getLogger(__name__)


def settle_heap() -> int:
    """Collect the start-up garbage, then freeze what is left; return how many are frozen.

    The collection first: a cycle frozen while already garbage would never be freed.
    """
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.debug("start-up heap set aside: %d objects the collector will not walk again", frozen)
    return frozen
