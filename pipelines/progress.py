"""Progress of a running job: phases, Spark tasks done/total, records per second.

A daemon thread polls Spark's status tracker; on a terminal it redraws one line, elsewhere
(CI, logs) it prints a line at most every `log_every` seconds so logs stay readable.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from contextlib import contextmanager


class Progress:
    def __init__(self, spark, enabled: bool = True, stream=None, log_every: float = 10.0):
        self.sc = spark.sparkContext
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.log_every = log_every
        self.records = self.sc.accumulator(0)
        self.timings: dict[str, float] = {}
        self._phase = None
        self._t0 = 0.0
        self._base = 0
        self._stop = threading.Event()
        self._thread = None

    def _tasks(self) -> tuple[int, int, int]:
        tracker = self.sc.statusTracker()
        done = total = active = 0
        for sid in tracker.getActiveStageIds():
            info = tracker.getStageInfo(sid)
            if info:
                done += info.numCompletedTasks
                total += info.numTasks
                active += info.numActiveTasks
        return done, total, active

    def line(self) -> str:
        done, total, active = self._tasks()
        elapsed = time.monotonic() - self._t0
        return f"[{self._phase}] tasks {done}/{total} ({active} running){self._rate(elapsed)} | {elapsed:5.1f}s"

    def _rate(self, elapsed: float) -> str:
        # The accumulator grows when tasks finish; only phases that read records move it.
        n = self.records.value - self._base
        if n <= 0 or elapsed <= 0:
            return ""
        return f" | {n:,} records | {n / elapsed:,.0f} rec/s"

    def _loop(self):
        last_log = time.monotonic()
        while not self._stop.wait(0.5):
            try:
                text = self.line()
            except Exception:  # noqa: BLE001 - the context may be stopping under us
                return
            if self.tty:
                self.stream.write("\r\033[K" + text)
                self.stream.flush()
            elif time.monotonic() - last_log >= self.log_every:
                print(text, file=self.stream, flush=True)
                last_log = time.monotonic()

    @contextmanager
    def phase(self, name: str):
        self._phase = name
        self._t0 = time.monotonic()
        self._base = self.records.value
        self.sc.setJobDescription(name)
        if self.enabled:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()
        try:
            yield self
        except BaseException as e:
            with contextlib.suppress(AttributeError, TypeError):
                e.earlyfuse_phase = getattr(e, "earlyfuse_phase", name)  # the run's one-line error names it
            raise
        finally:
            elapsed = time.monotonic() - self._t0
            self.timings[name] = round(elapsed, 3)
            if self.enabled:
                self._stop.set()
                self._thread.join()
                prefix = "\r\033[K" if self.tty else ""
                print(f"{prefix}[{name}] done in {elapsed:.1f}s{self._rate(elapsed)}",
                      file=self.stream, flush=True)
            self.sc.setJobDescription(None)
