#!/usr/bin/python3
"""Our PNG encoder -> PIL: decodes the files written by the PngEncoderPilExportTests with PIL and compares them
with the exact levels the test wrote next to them (PAM).

    NEURALSTYLE_PNG_EXPORT=/tmp/png-export dotnet test tests/NeuralStyle.Imaging.Tests -c Release \
        --filter FullyQualifiedName~PngEncoderPilExportTests
    /usr/bin/python3 tools/imaging/verify_encoder_with_pil.py /tmp/png-export

PIL keeps 16-bit precision only for greyscale ("I;16"); for 16-bit colour it exposes the high byte, which is
what is compared there (16-bit grey+alpha opens as RGBA with R = G = B). pngcheck, if installed, also validates every file's structure.
"""
import glob
import os
import shutil
import subprocess
import sys

import numpy as np
from PIL import Image


def read_pam(path):
    data = open(path, "rb").read()
    end = data.index(b"ENDHDR\n") + 7
    fields = dict(line.split(" ") for line in data[:end].decode().splitlines()[1:-1])
    w, h, d, m = (int(fields[k]) for k in ("WIDTH", "HEIGHT", "DEPTH", "MAXVAL"))
    arr = np.frombuffer(data[end:], dtype=">u2" if m > 255 else "u1").reshape(h, w, d).astype(np.int64)
    return arr, m


def main(folder):
    files = sorted(glob.glob(os.path.join(folder, "*.png")))
    if not files:
        sys.exit(f"no PNG files in {folder}")
    failures = 0
    for png in files:
        expected, maxval = read_pam(png[:-4] + ".pam")
        im = Image.open(png)
        im.load()
        if im.mode in ("I;16", "I;16B", "I"):
            got, want = np.array(im).astype(np.int64), expected[..., 0]
        else:
            got = np.array(im).astype(np.int64)
            if got.ndim == 2:
                got = got[..., None]
            want = expected >> 8 if maxval > 255 else expected
            if got.shape[2] == 4 and want.shape[2] == 2:  # PIL opens 16-bit grey+alpha as RGBA
                grey_ok = np.array_equal(got[..., 0], got[..., 1]) and np.array_equal(got[..., 0], got[..., 2])
                got = got[..., [0, 3]] if grey_ok else got
        ok = got.shape == want.shape and np.array_equal(got, want)
        if shutil.which("pngcheck"):
            ok = ok and subprocess.run(["pngcheck", "-q", png], capture_output=True).returncode == 0
        print(f"{'ok  ' if ok else 'FAIL'} {os.path.basename(png)} PIL mode {im.mode}")
        failures += not ok
    print(f"{len(files) - failures}/{len(files)} files decode in PIL to the expected levels")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/png-export")
