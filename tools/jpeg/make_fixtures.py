#!/usr/bin/python3
"""Generates the JPEG decoder test fixtures in tests/NeuralStyle.Imaging.Tests/Jpeg/Fixtures.

Run from the repository root with Debian's python3 (needs PIL and libjpeg-turbo-progs: cjpeg, djpeg, jpegtran):
    /usr/bin/python3 tools/jpeg/make_fixtures.py [path/to/shared/images]
Every <name>.jpg gets <name>.pnm.gz: the pixels libjpeg-turbo's `djpeg -pnm` writes with its defaults (islow IDCT,
fancy upsampling), rotated/flipped upright with PIL when the file carries an EXIF orientation.
"""
import gzip, io, os, shutil, struct, subprocess, sys
from PIL import Image

root = os.path.dirname(os.path.abspath(__file__))
repo = os.path.abspath(os.path.join(root, "..", ".."))
images = sys.argv[1] if len(sys.argv) > 1 else os.path.join(repo, "..", "shared", "images")
out = os.path.join(repo, "tests", "NeuralStyle.Imaging.Tests", "Jpeg", "Fixtures")
os.makedirs(out, exist_ok=True)

def run(args, data=None):
    return subprocess.run(args, input=data, stdout=subprocess.PIPE, check=True).stdout

def ppm_of(img):
    b = io.BytesIO()
    img.save(b, format="PPM")
    return b.getvalue()

def expected(name, jpeg_bytes, orientation=1):
    pnm = run(["djpeg", "-pnm"], jpeg_bytes)
    if orientation != 1:
        im = Image.open(io.BytesIO(pnm))
        ops = {2: [Image.Transpose.FLIP_LEFT_RIGHT], 3: [Image.Transpose.ROTATE_180], 4: [Image.Transpose.FLIP_TOP_BOTTOM],
               5: [Image.Transpose.TRANSPOSE], 6: [Image.Transpose.ROTATE_270], 7: [Image.Transpose.TRANSVERSE],
               8: [Image.Transpose.ROTATE_90]}[orientation]
        for op in ops:
            im = im.transpose(op)
        b = io.BytesIO()
        im.save(b, format="PPM")
        pnm = b.getvalue()
    with open(os.path.join(out, name + ".pnm.gz"), "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0, filename="") as f:  # reproducible bytes
            f.write(pnm)

def save(name, jpeg_bytes, orientation=1):
    with open(os.path.join(out, name + ".jpg"), "wb") as f:
        f.write(jpeg_bytes)
    expected(name, jpeg_bytes, orientation)

def exif_app1(orientation, little=True):
    e = "<" if little else ">"
    tiff = (b"II" if little else b"MM") + struct.pack(e + "HI", 42, 8)
    tiff += struct.pack(e + "H", 1) + struct.pack(e + "HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(e + "I", 0)
    payload = b"Exif\0\0" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload

def with_exif(jpeg, orientation, little=True):
    assert jpeg[:2] == b"\xff\xd8"
    return jpeg[:2] + exif_app1(orientation, little) + jpeg[2:]

src = Image.open(os.path.join(images, "content", "astronaut.png")).convert("RGB")
crop = src.crop((180, 60, 241, 105))          # 61x45: not a multiple of any MCU size
ppm = ppm_of(crop)

for s, tag in [("1x1", "444"), ("2x1", "422"), ("2x2", "420"), ("1x2", "440"), ("2x2,1x2,2x1", "mixed")]:
    save(f"s{tag}", run(["cjpeg", "-quality", "90", "-sample", s], ppm))
    save(f"s{tag}_prog", run(["cjpeg", "-quality", "90", "-sample", s, "-progressive"], ppm))
save("s420_restart1row", run(["cjpeg", "-quality", "85", "-sample", "2x2", "-restart", "1"], ppm))
save("s444_restart3blocks", run(["cjpeg", "-quality", "85", "-sample", "1x1", "-restart", "3B"], ppm))
save("s420_prog_restart", run(["cjpeg", "-quality", "85", "-sample", "2x2", "-progressive", "-restart", "2B"], ppm))
save("s420_optimized", run(["cjpeg", "-quality", "75", "-optimize", "-sample", "2x2"], ppm))
save("grey", run(["cjpeg", "-quality", "90", "-grayscale"], ppm))
save("grey_prog", run(["cjpeg", "-quality", "90", "-grayscale", "-progressive"], ppm))
save("rgb_adobe", run(["cjpeg", "-quality", "90", "-rgb"], ppm))
save("s420_q100", run(["cjpeg", "-quality", "100", "-sample", "2x2"], ppm))
save("s420_q5", run(["cjpeg", "-quality", "5", "-sample", "2x2"], ppm))

# CMYK (Adobe APP14, inverted) written by PIL; djpeg converts CMYK to RGB for PPM output.
b = io.BytesIO(); crop.convert("CMYK").save(b, format="JPEG", quality=90); save("cmyk", b.getvalue())
# YCCK: the same 4-component data with the Adobe transform flag set to 2 (djpeg then converts YCC→RGB, inverts to
# CMY and applies K); the pixels differ from the CMYK file, which is the point of the check.
cm = bytearray(b.getvalue())
i = cm.find(b"Adobe")
assert i > 4 and cm[i - 4:i - 2] == b"\xff\xee" and cm[i + 11] == 0, "expected an Adobe APP14 marker with transform 0"
cm[i + 11] = 2
save("ycck", bytes(cm))

# Odd sizes.
for (w, h) in [(1, 1), (13, 7), (17, 33), (2, 5), (3, 3)]:
    c = ppm_of(src.crop((200, 80, 200 + w, 80 + h)))
    for s, tag in [("1x1", "444"), ("2x2", "420"), ("2x1", "422")]:
        save(f"size{w}x{h}_{tag}", run(["cjpeg", "-quality", "90", "-sample", s], c))
    save(f"size{w}x{h}_420_prog", run(["cjpeg", "-quality", "90", "-sample", "2x2", "-progressive"], c))

# EXIF orientations 1-8 on a 13x7 image (4:2:0), both byte orders.
c = ppm_of(src.crop((190, 70, 203, 77)))
base = run(["cjpeg", "-quality", "90", "-sample", "2x2"], c)
for o in range(1, 9):
    save(f"exif_orient{o}", with_exif(base, o, little=(o % 2 == 0)), o)

# The shared sample photographs (copied verbatim; rocket_progressive.jpg is a lossless transcode of rocket.jpg).
for name in ["rocket", "rocket_progressive"]:
    data = open(os.path.join(images, "content", name + ".jpg"), "rb").read()
    with open(os.path.join(out, name + ".jpg"), "wb") as f:
        f.write(data)
expected("rocket", open(os.path.join(out, "rocket.jpg"), "rb").read())
assert run(["djpeg", "-pnm", os.path.join(out, "rocket_progressive.jpg")]) == run(["djpeg", "-pnm", os.path.join(out, "rocket.jpg")])
shutil.copyfile(os.path.join(images, "codec", "truncated.jpg"), os.path.join(out, "truncated.jpg"))
print("fixtures written to", out)
