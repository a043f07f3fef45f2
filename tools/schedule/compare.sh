#!/usr/bin/env bash
# Faster schedules vs single-scale L-BFGS, neural-style losses on the embedded random
# VGG-19 (caffe flavour; no pretrained weights offline). Writes the loss-vs-wall-time SVG, the result PNGs and a
# markdown table (with the load average beside every run) to OUT. Run it on a quiet machine (load under 1).
#   tools/schedule/compare.sh [OUT=docs/images/schedule] [SIZE=384] [SINGLE=300] [REFERENCE_DIR]
# With REFERENCE_DIR the single-scale run is kept there and reused by the next comparison of the same size.
#   tools/schedule/compare.sh docs/images/schedule-512 512 1000     # issue 13's reference (~11 min single scale)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-docs/images/schedule}
size=${2:-384}
single=${3:-300}
mkdir -p "$(dirname "$out")"
# the fast preset (content start, one scale), the coarse-to-fine preset and the same schedule from the content image, then
# the schedule's ablations: cold restarts (neither carried history nor scaled TV), each alone, and an early stop
variants="fast:preset=fast"
variants+=";coarse-to-fine:preset=coarse-to-fine"
variants+=";coarse-to-fine-from-content:preset=coarse-to-fine,init=image"
variants+=";cold:preset=coarse-to-fine,carry=0,tv=0"
variants+=";carry-only:preset=coarse-to-fine,tv=0"
variants+=";tv-only:preset=coarse-to-fine,carry=0"
variants+=";stop-1e-3:preset=coarse-to-fine,stop=1e-3"
variants=${VARIANTS:-$variants} # VARIANTS="name:key=v,…;…" runs others instead
dotnet build -c Release bench/NeuralStyle.Bench >/dev/null
dotnet run -c Release --no-build --project bench/NeuralStyle.Bench -- --schedule-compare "$out.svg" \
  --schedule-size "$size" --schedule-single "$single" --schedule-variants "$variants" ${4:+--schedule-reference "$4"} | tee "$out.md"
