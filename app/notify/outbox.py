"""Alerts a channel failed to deliver, kept for the next dispatch or tick to send again.

In memory on purpose: the dispatch functions have no session (they must work after any
transaction and never touch run state), and what an alert says stays visible in the ledger
anyway (failed and conflict rows, the daily summary) if the process restarts first. Bounded by
count and by age, oldest dropped first, each drop logged.
"""

import logging
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.notify.messages import Notice

log = logging.getLogger(__name__)

CAPACITY = 100
MAX_AGE = timedelta(hours=24)


@dataclass
class Pending:
    """One undelivered notice for one channel."""

    channel: str
    notice: Notice
    queued_at: datetime
    attempts: int = 1


class Outbox:
    """A bounded, thread-safe queue of undelivered notices, oldest first."""

    def __init__(self, capacity: int = CAPACITY, max_age: timedelta = MAX_AGE) -> None:
        self.capacity = capacity
        self.max_age = max_age
        self._items: deque[Pending] = deque()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def channels(self) -> set[str]:
        """Channels that have something waiting."""
        with self._lock:
            return {item.channel for item in self._items}

    def add(self, channel: str, notice: Notice, now: datetime) -> None:
        """Keep a notice for a later attempt; when full, the oldest one is dropped."""
        with self._lock:
            self._items.append(Pending(channel, notice, now))
            while len(self._items) > self.capacity:
                _log_drop(self._items.popleft(), "the outbox is full")

    def take(self, channel: str, now: datetime) -> list[Pending]:
        """Remove and return the channel's notices, oldest first; expired ones are dropped."""
        with self._lock:
            taken = [item for item in self._items if item.channel == channel]
            self._items = deque(item for item in self._items if item.channel != channel)
        fresh = []
        for item in taken:
            if now - item.queued_at > self.max_age:
                _log_drop(item, f"undelivered for more than {self.max_age}")
            else:
                fresh.append(item)
        return fresh

    def restore(self, items: list[Pending]) -> None:
        """Put notices back in front (they are older than anything added since)."""
        with self._lock:
            self._items.extendleft(reversed(items))
            while len(self._items) > self.capacity:
                _log_drop(self._items.popleft(), "the outbox is full")


def _log_drop(item: Pending, reason: str) -> None:
    log.error(
        "%s notification %r dropped after %d attempts: %s",
        item.channel,
        item.notice.kind,
        item.attempts,
        reason,
    )
