"""A deadline watch: a due time with reminders before it, an action when it is due and one
when it is overdue, that can be moved while it runs.

    watch = DeadlineWatch("return", due, remind_before=[timedelta(days=3), timedelta(days=1)],
                          on_reminder=remind, on_due=escalate)
    await watch.wait(lambda: answered)       # fires what falls due until `answered`

Each event fires once, in time order, on durable timers (an event already past fires at
once). `move(due)` (from a Signal or Update handler: the process kit's `deadline_moved`, or
a deal field change) re-arms the events still ahead of the new due time and wakes the wait;
what already fired for the old time is not repeated unless its new time is still ahead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow

Action = Callable[[], Awaitable[None]]
ReminderAction = Callable[[timedelta], Awaitable[None]]


@dataclass
class _Event:
    name: str  # "remind:<offset>", "due" or "overdue"
    offset: timedelta  # relative to the due time (negative: before)
    fired: bool = False


class DeadlineWatch:
    def __init__(
        self,
        name: str,
        due: datetime | None,
        *,
        remind_before: Sequence[timedelta] = (),
        on_reminder: ReminderAction | None = None,
        on_due: Action | None = None,
        overdue_after: timedelta | None = None,
        on_overdue: Action | None = None,
        field: str = "",
    ) -> None:
        self.name = name
        self.due = due
        self.field = field  # a deal field whose change moves the due time ("" -> none)
        self._on_reminder = on_reminder
        self._on_due = on_due
        self._on_overdue = on_overdue
        self._events: list[_Event] = []
        if on_reminder is not None:
            for before in sorted(remind_before, reverse=True):
                self._events.append(_Event(f"remind:{before}", -before))
        if on_due is not None:
            self._events.append(_Event("due", timedelta()))
        if on_overdue is not None and overdue_after is not None:
            self._events.append(_Event("overdue", overdue_after))
        self._moved = False
        self.moves = 0

    def move(self, due: datetime | None) -> None:
        """Move the due time (None: no deadline any more); events still ahead re-arm."""
        self.due = due
        self.moves += 1
        now = workflow.now()
        for event in self._events:
            if due is not None and due + event.offset > now:
                event.fired = False
        self._moved = True

    def next_at(self) -> datetime | None:
        event = self._next()
        return None if event is None or self.due is None else self.due + event.offset

    async def wait(self, done: Callable[[], bool]) -> None:
        """Fire the watch's events as they fall due, until `done()`."""
        while not done():
            event = self._next()
            if event is None or self.due is None:
                await workflow.wait_condition(lambda: done() or self._moved)
                self._moved = False
                continue
            remaining = self.due + event.offset - workflow.now()
            if remaining > timedelta():
                try:
                    await workflow.wait_condition(lambda: done() or self._moved, timeout=remaining)
                except TimeoutError:
                    pass
                else:
                    self._moved = False
                    continue
            event.fired = True
            await self._fire(event)

    def _next(self) -> _Event | None:
        pending = [e for e in self._events if not e.fired]
        return min(pending, key=lambda e: e.offset) if pending else None

    async def _fire(self, event: _Event) -> None:
        if event.name == "due" and self._on_due is not None:
            await self._on_due()
        elif event.name == "overdue" and self._on_overdue is not None:
            await self._on_overdue()
        elif self._on_reminder is not None:
            await self._on_reminder(-event.offset)
