"""Benchmarks: OR-Library instances against published optima, and scale runs.

Run them through ``planner bench orlib|scale|peer`` (see ``bench/README.md``).
"""

from __future__ import annotations
