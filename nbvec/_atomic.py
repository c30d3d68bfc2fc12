"""Commit sections that Ctrl-C cannot cut in half.

Writes validate and prepare everything first (interruptible, nothing
changed), then apply it inside :func:`uninterruptible`, where a SIGINT is held
back and re-raised as KeyboardInterrupt once the commit is done.

>>> with uninterruptible():
...     pass
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

__all__ = ["uninterruptible"]


@contextmanager
def uninterruptible():
    """Hold SIGINT back for the duration of the block (main thread only;
    other threads never receive KeyboardInterrupt)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    try:
        previous = signal.signal(signal.SIGINT, lambda *args: received.append(args))
    except ValueError:  # not the main interpreter thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received and callable(previous):
            previous(*received[0])
