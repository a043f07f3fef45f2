#!/usr/bin/env bash
# Coarse-to-fine schedules vs single-scale L-BFGS (issues 11 and 13), neural-style losses on the embedded random
# VGG-19 (caffe flavour; no pretrained weights offline). Writes the loss-vs-wall-time SVG, the result PNGs and a
# markdown table (with the load average beside every run) to OUT. Run it on a quiet machine (load under 1).
#   tools/schedule/compare.sh [OUT=docs/images/schedule] [SIZE=384] [SINGLE=300]
#   tools/schedule/compare.sh docs/images/schedule-512 512 1000     # issue 13's reference (~11 min single scale)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-docs/images/schedule}
size=${2:-384}
single=${3:-300}
mkdir -p "$(dirname "$out")"
# the fast preset, then its ablations: cold restarts (neither carried history nor scaled TV), each alone, and issue 5's
variants="fast:preset=fast"
variants+=";cold:preset=fast,carry=0,tv=0"
variants+=";carry-only:preset=fast,tv=0"
variants+=";tv-only:preset=fast,carry=0"
variants+=";stop-1e-3:preset=fast,stop=1e-3"
dotnet build -c Release bench/NeuralStyle.Bench >/dev/null
dotnet run -c Release --no-build --project bench/NeuralStyle.Bench -- --schedule-compare "$out.svg" \
  --schedule-size "$size" --schedule-single "$single" --schedule-variants "$variants" | tee "$out.md"
