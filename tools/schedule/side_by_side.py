#!/usr/bin/env python3
"""Puts schedule-comparison results side by side, each captioned, as one JPEG for the README.

    tools/schedule/side_by_side.py OUT.jpg IMAGE.png "caption" [IMAGE.png "caption" ...]

The images are the PNGs that `tools/schedule/compare.sh` (the bench's --schedule-compare) writes beside its plot.
Needs Pillow (Debian's python3-pil).
"""
import sys
from PIL import Image, ImageDraw

W, H, GAP, STRIP = 384, 288, 4, 22


def main(argv):
    if len(argv) < 4 or len(argv) % 2 != 0:
        sys.exit(__doc__.strip().splitlines()[2].strip())
    out, pairs = argv[1], list(zip(argv[2::2], argv[3::2]))
    sheet = Image.new("RGB", (len(pairs) * (W + GAP) - GAP, H + STRIP), "white")
    draw = ImageDraw.Draw(sheet)
    for k, (path, caption) in enumerate(pairs):
        sheet.paste(Image.open(path).convert("RGB").resize((W, H), Image.LANCZOS), (k * (W + GAP), 0))
        draw.text((k * (W + GAP) + 6, H + 5), caption, fill="black")
    sheet.save(out, quality=85)


if __name__ == "__main__":
    main(sys.argv)
