"""Rendered pages kept in this process, keyed by the version of the data they show.

The progress board (:mod:`monev.judging.views.board`) is rendered once per judging version
(:mod:`monev.judging.versions`) and language, then served from here to every organiser who
polls it. Each server process (a gunicorn worker, the one waitress process) has its own
cache: with N processes a version is rendered at most N times.

On judging day the version changes with nearly every save (25 saves a second from 100
judges), so a poll would almost never find its exact version rendered. Polls may therefore
take the newest render of the same page while it is younger than ``reuse_for`` seconds, and
while another thread of the process is already rendering the page: however many organisers
poll, the page is rendered at most once per ``reuse_for`` seconds per process, and a poll
never waits for a render that another request has started. The page says how fresh it is
(the time of the newest change it shows). A full page load (after the organiser's own
change, for instance) asks for the exact version and renders it when it is not here.

Entries are whole strings; the cache keeps the ``size`` most recently used.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(frozen=True)
class Rendered:
    html: str
    etag: str  # the opaque tag of an ``ETag`` (weak: the page shows the same data)
    made: float  # time.monotonic() when it was rendered
    order: int = 0  # the version it shows: a newer render never gives way to an older one


def etag_of(key: Hashable) -> str:
    """A short opaque tag for ``key`` (a tuple of plain values)."""
    return hashlib.sha256(repr(key).encode()).hexdigest()[:24]


class RenderCache:
    def __init__(self, size: int = 64):
        self.size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, Rendered] = OrderedDict()
        self._newest: dict[Hashable, Rendered] = {}  # family -> newest render
        self._busy: set[Hashable] = set()  # families being rendered right now
        self.renders = 0  # how many times ``render`` ran (tests and benches read it)

    def get(
        self,
        family: Hashable,
        key: Hashable,
        render: Callable[[], Rendered],
        *,
        reuse_for: float = 0.0,
        at_least: int = 0,
    ) -> Rendered:
        """The render of ``key`` (a version of the page ``family``). Without it: with
        ``reuse_for``, the family's newest render (if its ``order`` is at least ``at_least``,
        the version the client already has) while it is younger than that or while another
        thread renders the family; otherwise ``render()``, kept for the next."""
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
            newest = self._newest.get(family)
            if (
                reuse_for > 0
                and newest is not None
                and newest.order >= at_least
                and (time.monotonic() - newest.made < reuse_for or family in self._busy)
            ):
                return newest
            self._busy.add(family)
        try:
            rendered = render()
        finally:
            with self._lock:
                self._busy.discard(family)
        with self._lock:
            self.renders += 1
            self._items[key] = rendered
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
            newest = self._newest.get(family)
            if newest is None or newest.order <= rendered.order:
                self._newest[family] = rendered
            if len(self._newest) > self.size:
                self._newest.pop(next(iter(self._newest)))
        return rendered

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._newest.clear()
            self._busy.clear()
