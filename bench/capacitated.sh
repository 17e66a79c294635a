#!/usr/bin/env bash
# CPMP (33) and SSCFLP (91) instances against the published optima, 60 s each, then the
# plain compact MIP on HiGHS side by side (the peer). Results in bench/results/.
# Usage: bench/capacitated.sh [cpmp|sscflp ...]   (default: both families)
set -euo pipefail
cd "$(dirname "$0")/.."
families=("${@:-cpmp sscflp}")
for family in ${families[*]}; do
    uptime
    nice .venv/bin/planner bench orlib --family "$family" --dir "../shared/benchmarks/$family" \
        --time-limit 60 --json "bench/results/$family.json"
    uptime
    nice .venv/bin/planner bench peer --family "$family" --dir "../shared/benchmarks/$family" \
        --time-limit 60 --json "bench/results/peer_$family.json"
    uptime
    .venv/bin/python bench/summarize.py "bench/results/$family.json"
done
