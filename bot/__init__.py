"""Fokus-Coach: focus on the few social channels that fit your audience and your hours.

``cli`` is the entry point and ``config`` its settings; ``core`` holds the dialogue and the
coaching, free of any transport; ``console`` (terminal) and ``telegram`` are the transports;
``dispatcher`` is the one scheduler job that sends the weekly check-ins.
"""

from importlib.metadata import version as _v

__version__ = _v("focus-coach")
