"""Errors raised by the planner.

Every error carries a message that names the problem and says how to fix it, so the CLI
and the app can show it to a user as it is, without a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence


class PlannerError(Exception):
    """Base class of every error the planner raises on purpose."""


class ValidationError(PlannerError, ValueError):
    """Input data or a scenario is invalid.

    Parameters
    ----------
    problems
        Every problem found, one message each; the error lists them all at once.
    source
        The file or object the problems were found in (shown as a heading).
    """

    def __init__(self, problems: str | Sequence[str], *, source: str | None = None) -> None:
        self.problems: tuple[str, ...] = (
            (problems,) if isinstance(problems, str) else tuple(problems)
        )
        self.source = source
        head = f"{source}: " if source else ""
        if len(self.problems) == 1:
            text = head + self.problems[0]
        else:
            lines = "\n".join(f"  - {p}" for p in self.problems)
            text = f"{head}{len(self.problems)} problems found:\n{lines}"
        super().__init__(text)


class ScenarioError(ValidationError):
    """A scenario file is invalid (unknown keys, wrong types, bad references)."""


class GeodataError(PlannerError, LookupError):
    """Embedded geodata is missing, corrupt or does not match its manifest."""


class InfeasibleError(PlannerError):
    """The problem has no feasible solution; the message says why, with numbers."""
