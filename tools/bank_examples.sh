#!/usr/bin/env bash
# Regenerates the README's StyleBank pictures (docs/images/bank_*.jpg): trains a bank of three styles on the
# photos in examples/train, then applies each style, a 50/50 blend and two regions in both region modes to
# examples/images/tubingen.jpg. Offline this uses the embedded random VGG-19 as the loss network (say so in the
# README). Usage: tools/bank_examples.sh [STEPS] (default 150; about 1.5 s of CPU per step).
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-150}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A private build: rebuilding the tree meanwhile does not disturb a long run.
dotnet build src/NeuralStyle.Cli -c Release -v q -nologo -o "$work/bin" >/dev/null
ns() { dotnet "$work/bin/NeuralStyle.Cli.dll" "$@"; }

bank="$work/bank.safetensors"
start=$(date +%s)
ns bank train --styles examples/images/starry_night.jpg examples/images/shipwreck.jpg examples/images/woman-with-hat-matisse.jpg \
  --names starry,shipwreck,matisse --dataset examples/train -o "$bank" \
  --model random --image-size 128 --batch-size 3 --style-size 256 --steps "$steps" --print-every 25 --seed 1
echo "training took $(( $(date +%s) - start )) s of wall time"
ns bank list "$bank"

photo=examples/images/tubingen.jpg
out=docs/images
mkdir -p "$out"
common=(--size 384 --quality 80)
for s in starry shipwreck matisse; do ns apply --model "$bank" "$photo" -o "$out/bank_$s.jpg" --style "$s" "${common[@]}"; done
ns apply --model "$bank" "$photo" -o "$out/bank_blend.jpg" --blend starry:0.5,shipwreck:0.5 "${common[@]}"
ns apply --model "$bank" "$photo" -o "$out/bank_reconstruct.jpg" --reconstruct "${common[@]}"
for mode in composite feature; do
  ns apply --model "$bank" "$photo" -o "$out/bank_regions_$mode.jpg" --regions examples/images/bank_mask.png \
    --region-styles ff0000:starry,0000ff:matisse --feather 8 --region-mode "$mode" "${common[@]}"
done
ls -la "$out"/bank_*.jpg

# How far each region is from its style alone, in both modes (PNG, no JPEG noise): mean |difference| on a 0-255
# scale over each half, leaving out the 24 columns around the seam that the feathering blends.
for s in starry matisse; do ns apply --model "$bank" "$photo" -o "$work/$s.png" --style "$s" --size 384; done
for mode in composite feature; do
  ns apply --model "$bank" "$photo" -o "$work/$mode.png" --regions examples/images/bank_mask.png \
    --region-styles ff0000:starry,0000ff:matisse --feather 8 --region-mode "$mode" --size 384
done
/usr/bin/python3 - "$work" <<'PY'
import sys, numpy as np
from PIL import Image
w = sys.argv[1]
load = lambda n: np.asarray(Image.open(f"{w}/{n}.png").convert("RGB"), dtype=np.float64)
starry, matisse = load("starry"), load("matisse")
half = starry.shape[1] // 2
for mode in ("composite", "feature"):
    img = load(mode)
    left = np.abs(img[:, :half - 12] - starry[:, :half - 12]).mean()
    right = np.abs(img[:, half + 12:] - matisse[:, half + 12:]).mean()
    print(f"{mode}: left half vs starry alone {left:.2f}, right half vs matisse alone {right:.2f} (0-255, mean |diff|)")
PY
