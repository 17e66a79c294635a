"""A solve running in a background thread, owned by one session (kept in its session state).

The page starts a :class:`SolveJob`, keeps it under ``state.SC_JOB`` and re-renders while it
runs; the job never touches Streamlit itself. Each job has its own :class:`CancelToken`, so one
user's Cancel can never stop another user's solve.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, ClassVar

from planner.errors import PlannerError
from planner.models import CancelToken, Progress
from planner.run import AnyInputs, AnyResult, run_scenario
from planner.scenarios import Scenario


@dataclass
class SolveJob:
    """State of one background solve (written by the worker, read by the page)."""

    scenario: Scenario
    started: float = field(default_factory=time.monotonic)
    token: CancelToken = field(default_factory=CancelToken)
    history: list[Progress] = field(default_factory=list)
    phase: str = "preparing"
    result: Any = None
    error: str | None = None
    internal: bool = False
    finished: float | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    thread_name: ClassVar[str] = "planner-solve"

    @property
    def done(self) -> bool:
        """Whether the worker has finished (with a result or an error)."""
        return self.finished is not None

    @property
    def elapsed(self) -> float:
        """Seconds since the job started (until it finished)."""
        end = self.finished if self.finished is not None else time.monotonic()
        return end - self.started

    def latest(self) -> Progress | None:
        """Return the most recent progress report."""
        with self._lock:
            return self.history[-1] if self.history else None

    def snapshot(self) -> list[Progress]:
        """Return a copy of the progress history."""
        with self._lock:
            return list(self.history)

    def _progress(self, p: Progress) -> None:
        with self._lock:
            self.history.append(p)
        self.phase = "solving"

    def start(self, inputs_factory: Any, time_limit_s: float) -> None:  # noqa: ANN401
        """Run ``inputs_factory()`` then :meth:`_solve` in a daemon thread."""

        def work() -> None:
            try:
                inputs = inputs_factory()
                self.phase = "solving"
                if self.token.cancelled:
                    self.error = "cancelled"
                    return
                self.result = self._solve(inputs, time_limit_s)
            except PlannerError as exc:
                self.error = str(exc)
            except Exception as exc:  # noqa: BLE001 - a crashing solve must not take the app down
                self.error = f"{type(exc).__name__}: {exc}"
                self.internal = True
                traceback.print_exc()
            finally:
                self.finished = time.monotonic()

        self._thread = threading.Thread(target=work, name=self.thread_name, daemon=True)
        self._thread.start()

    def _solve(self, inputs: AnyInputs, time_limit_s: float) -> AnyResult:
        """Solve the scenario (any model kind) on prepared inputs."""
        return run_scenario(
            self.scenario,
            inputs=inputs,
            time_limit_s=time_limit_s,
            progress=self._progress,
            cancel=self.token,
        )

    def cancel(self) -> None:
        """Ask the solve to stop; the incumbent is kept."""
        self.token.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until done (tests); return whether it finished."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.done
