#!/usr/bin/env bash
# All 40 OR-Library p-median instances against the published optima (60 s each).
# Usage: bench/pmed.sh [OUT.json] [extra args, e.g. --instances pmed36,pmed38]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-bench/results/pmed.json}"
shift || true
mkdir -p "$(dirname "$out")"
nice .venv/bin/planner bench orlib --family pmed --dir ../shared/benchmarks/orlib/pmed \
    --time-limit 60 --json "$out" "$@"
.venv/bin/python bench/summarize.py "$out"
