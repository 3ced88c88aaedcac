"""What the receiver writes when reports come by the thousand: each one counted, few lines.

Every line carries ``count``, the violations it stands for, so that over the
whole log the counts add up to the violations accepted, however many arrive:

- ``csp-violation``: the first of identical violations (same directive,
  blocked URL, document and disposition) in a window, at once, count 1;
- ``csp-violation-repeated``: the repeats of one of those in that window, with
  its fields, when the window ends;
- ``csp-violations-from-extensions``: violations a browser extension caused
  (its blocked URL or source file is an extension's), only counted;
- ``csp-violations-untracked``: distinct violations past MAX_TRACKED in one
  window (memory stays flat under a flood of distinct ones), only counted;
- ``csp-violations-over-rate``: lines past ``rate`` in one second, counted
  and written once the second is over: at most one such line a second.

Refusals of cross-origin requests (``cross_origin``) are counted the same
way, as a kind of their own: ``cross-origin-refusal``, ``-repeated``, and so on.

Time moves when a report arrives: a window that has ended is written by the
next report, or by ``close()`` as the process stops (gunicorn's worker_exit
hook, and atexit for other servers), so no thread of its own is needed. What
``close()`` writes keeps to the rate, with one over-rate line for all that is
left: in the second a process stops it may write one line past the rate. A
lock keeps the counts right under a threaded server; lines are written
outside it.
"""

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

EXTENSION_SCHEMES = (
    "chrome-extension:",
    "moz-extension:",
    "safari-extension:",
    "safari-web-extension:",
    "ms-browser-extension:",
)
MAX_TRACKED = 1000  # distinct violations held per window: at most ~2 MB of text
LINE_FIELDS = (
    "event",
    "document",
    "directive",
    "blocked",
    "disposition",
    "sample",
    "user_agent",
)
Line = dict[str, Any]


def from_extension(*urls: str | None) -> bool:
    return any(
        url is not None and url[:24].lower().startswith(EXTENSION_SCHEMES)
        for url in urls
    )


def summary(event: str, count: int, fields: tuple[str, ...] = LINE_FIELDS) -> Line:
    """A line that only counts: every field there, none of them known."""
    return {**dict.fromkeys(fields), "event": event, "count": count}


class Tally:
    """Turns accepted violations into log lines; ``write`` gets each line.

    ``kind`` and ``fields`` name another kind of event counted the same way
    (``add_one``): its lines are ``kind``, ``kind-repeated``, ``kinds-untracked``
    and ``kinds-over-rate``, each with ``fields``.
    """

    def __init__(
        self,
        write: Callable[[Line], None],
        *,
        window: float,
        rate: int,
        max_tracked: int = MAX_TRACKED,
        clock: Callable[[], float] = time.time,
        kind: str = "csp-violation",
        fields: tuple[str, ...] = LINE_FIELDS,
    ) -> None:
        # Wall-clock seconds, as the log's timestamps count them.
        self.write, self.window, self.rate = write, window, rate
        self.max_tracked, self.clock = max_tracked, clock
        self.kind, self.fields = kind, fields
        self.lock = threading.Lock()
        self.window_start = clock()
        self.first: dict[tuple[Any, ...], Line] = {}  # key -> its first line
        self.repeats: dict[tuple[Any, ...], int] = {}
        self.extensions = self.untracked = 0
        self.second = int(self.window_start)
        self.written_this_second = 0
        self.over_rate = 0

    def add(
        self, violations: Iterable[Mapping[str, Any]], user_agent: str | None
    ) -> None:
        """Violations of one report; each has the line's fields and ``source``."""
        out: list[Line] = []
        with self.lock:
            now = self.clock()
            self.tick(now, out)
            for violation in violations:
                if from_extension(violation["blocked"], violation["source"]):
                    self.extensions += 1
                    continue
                key = (
                    violation["directive"],
                    violation["blocked"],
                    violation["document"],
                    violation["disposition"],
                )
                if not self.repeated(key):
                    line = {
                        "event": self.kind,
                        **{k: violation[k] for k in LINE_FIELDS[1:6]},
                        "user_agent": user_agent,
                        "count": 1,
                    }
                    self.first[key] = line
                    self.offer(line, out)
        self.write_all(out)

    def add_one(self, key: tuple[Any, ...], fields: Mapping[str, Any]) -> None:
        """One event of this tally's kind: ``fields`` are its line's, ``key``
        what makes two of them identical."""
        out: list[Line] = []
        with self.lock:
            self.tick(self.clock(), out)
            if not self.repeated(key):
                line = {"event": self.kind, **fields, "count": 1}
                self.first[key] = line
                self.offer(line, out)
        self.write_all(out)

    def repeated(self, key: tuple[Any, ...]) -> bool:
        """Counted as a repeat, or as untracked past the bound: no line of its own."""
        if key in self.first:
            self.repeats[key] = self.repeats.get(key, 0) + 1
        elif len(self.first) >= self.max_tracked:
            self.untracked += 1
        else:
            return False
        return True

    def close(self) -> None:
        """Write everything held, as the process stops: the window ends now."""
        out: list[Line] = []
        with self.lock:
            now = self.clock()
            if int(now) != self.second:  # what is over the rate so far: one line, below
                self.second, self.written_this_second = int(now), 0
            self.end_window(now, out)
            self.write_over_rate(out)
        self.write_all(out)

    def tick(self, now: float, out: list[Line]) -> None:
        """A new second: last second's over-rate line. A window over: its lines."""
        if int(now) != self.second:
            self.write_over_rate(out)
            self.second, self.written_this_second = int(now), 0
        if now >= self.window_start + self.window or now < self.window_start:
            self.end_window(now, out)

    def end_window(self, now: float, out: list[Line]) -> None:
        for event, count in (
            (f"{self.kind}s-from-extensions", self.extensions),
            (f"{self.kind}s-untracked", self.untracked),
        ):
            if count:
                self.offer(summary(event, count, self.fields), out)
        for key, count in self.repeats.items():
            repeated = {**self.first[key], "event": f"{self.kind}-repeated"}
            self.offer({**repeated, "count": count}, out)
        self.first.clear()
        self.repeats.clear()
        self.extensions = self.untracked = 0
        self.window_start = now

    def offer(self, line: Line, out: list[Line]) -> None:
        """Out within this second's rate; counted for the over-rate line past it."""
        if self.written_this_second < self.rate:
            self.written_this_second += 1
            out.append(line)
        else:
            self.over_rate += line["count"]

    def write_over_rate(self, out: list[Line]) -> None:
        if self.over_rate:
            out.append(summary(f"{self.kind}s-over-rate", self.over_rate, self.fields))
            self.over_rate = 0

    def write_all(self, lines: list[Line]) -> None:
        for line in lines:
            self.write(line)
