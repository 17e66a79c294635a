#!/usr/bin/env bash
# p-median at scale: 200,000 farms x 2,000 sites, p = 10, 20, 50, 60 s each.
# Usage: bench/scale.sh [p ...]
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
for p in "${@:-10 20 50}"; do
    nice .venv/bin/planner bench scale --farms 200000 --sites 2000 --model pmedian --p "$p" \
        --time-limit 60 --json "bench/results/scale_pmedian_p${p}.json"
done
.venv/bin/python bench/summarize.py bench/results/scale_pmedian_p*.json
