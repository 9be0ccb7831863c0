"""`@once`: a loader that runs whole, once per process, even when threads race to first use.

The reader and model registries fill themselves by importing their plugin modules at first use.
A plain "loaded" flag set before the imports let a second thread look formats up in a half-filled
table; set after them, a plugin that re-enters the loader while registering would recurse. So:
a re-entrant lock (other threads wait), a busy flag (re-entry from the loading thread returns),
and the done flag set only when the loader returned.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable


def once(load: Callable[[], None]) -> Callable[[], None]:
    lock = threading.RLock()
    state = {"done": False, "busy": False}  # read and written only while holding the lock

    @functools.wraps(load)
    def run() -> None:
        if state["done"]:
            return
        with lock:
            if state["done"] or state["busy"]:
                return
            state["busy"] = True
            try:
                load()
                state["done"] = True
            finally:
                state["busy"] = False

    return run
