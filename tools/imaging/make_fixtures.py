#!/usr/bin/python3
"""Generates the committed test fixtures of tests/NeuralStyle.Imaging.Tests/TestData.

Run with Debian's interpreter (it has PIL and numpy):  /usr/bin/python3 tools/imaging/make_fixtures.py

What it writes (all small):
  png-suite/*.png + *.pam   every PNG colour type / bit depth / tRNS / interlace combination at 1x1, 3x5, 17x9,
                            written by the independent PNG writer below (all five filters used in turn, IDAT split
                            in several chunks, ancillary chunks present). The .pam next to each is the exact
                            expected decoder output (PAM P7, MAXVAL = 2^depth - 1 for grey, 255 for palette).
                            Every file is also decoded with PIL and compared (PIL cannot represent some 16-bit
                            layouts exactly; there the high byte is compared).
  codec/*.png + *.pam       copies of ../shared/images/codec PNGs and PIL-written PNGs, expected pixels from PIL
                            (16-bit chessboard: from this script's own reader, cross-checked with PIL's 8-bit view).
  resample/*                PIL LANCZOS / BICUBIC / BILINEAR references (mode 'F' per channel, float32 LE, clipped
                            to [0,1]) and PIL's 8-bit RGB LANCZOS output.
  colour/*                  PIL YCbCr conversion, histogram matching (skimage's algorithm, in numpy),
                            Gaussian blur and Burt-Adelson reduce/expand references (numpy, explicit borders).
"""
import gzip
import os
import struct
import zlib

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "NeuralStyle.Imaging.Tests", "TestData")
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "images")
if not os.path.isdir(SHARED):
    SHARED = "/work/shared/images"

ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


# ----------------------------------------------------------------------------------------------- PNG writer
def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def pack_row(row, depth):
    """row: 1-D array of samples (already interleaved)."""
    if depth == 16:
        return b"".join(struct.pack(">H", int(v)) for v in row)
    if depth == 8:
        return bytes(int(v) for v in row)
    per = 8 // depth
    out = bytearray((len(row) * depth + 7) // 8)
    for i, v in enumerate(row):
        out[i // per] |= int(v) << (8 - depth - (i % per) * depth)
    return bytes(out)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_row(kind, cur, prev, bpp):
    out = bytearray(len(cur))
    for i in range(len(cur)):
        a = cur[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][kind]
        out[i] = (cur[i] - pred) & 0xFF
    return bytes([kind]) + bytes(out)


def encode_rows(samples, depth, channels, first_filter):
    """samples: H x W x C integer array. Returns the filtered byte stream, filters cycling 0..4."""
    h, w = samples.shape[:2]
    bpp = max(1, channels * depth // 8)
    out = bytearray()
    prev = bytes((w * channels * depth + 7) // 8)
    for y in range(h):
        cur = pack_row(samples[y].reshape(-1), depth)
        out += filter_row((first_filter + y) % 5, cur, prev, bpp)
        prev = cur
    return bytes(out)


def write_png(path, samples, color_type, depth, interlace=False, plte=None, trns=None, idat_parts=3):
    h, w = samples.shape[:2]
    channels = CHANNELS[color_type]
    samples = samples.reshape(h, w, channels)
    if interlace:
        raw = b""
        for p, (xs, ys, dx, dy) in enumerate(ADAM7):
            sub = samples[ys::dy, xs::dx]
            if sub.shape[0] and sub.shape[1]:
                raw += encode_rows(sub, depth, channels, p)
    else:
        raw = encode_rows(samples, depth, channels, 0)
    comp = zlib.compress(raw, 9)
    parts = [comp[i * len(comp) // idat_parts:(i + 1) * len(comp) // idat_parts] for i in range(idat_parts)]
    data = b"\x89PNG\r\n\x1a\n"
    data += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 1 if interlace else 0))
    data += chunk(b"gAMA", struct.pack(">I", 45455))
    data += chunk(b"tEXt", b"Comment\x00NeuralStyle test fixture")
    if plte is not None:
        data += chunk(b"PLTE", bytes(plte.reshape(-1).astype(np.uint8)))
    if trns is not None:
        data += chunk(b"tRNS", trns)
    for part in parts:
        data += chunk(b"IDAT", part)
    data += chunk(b"prVt", b"private ancillary chunk, must be skipped")
    data += chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


# ----------------------------------------------------------------------------------------------- PAM
def write_pam(path, samples, maxval):
    """samples: H x W x C integers."""
    h, w, c = samples.shape
    header = f"P7\nWIDTH {w}\nHEIGHT {h}\nDEPTH {c}\nMAXVAL {maxval}\nENDHDR\n".encode()
    dtype = ">u2" if maxval > 255 else "u1"
    save(path, header + samples.astype(dtype).tobytes())


def save(path, data):
    """Writes data; anything over 16 KiB is gzipped (path + '.gz'); the tests read both."""
    if len(data) > 16384:
        with gzip.GzipFile(path + ".gz", "wb", mtime=0) as f:
            f.write(data)
    else:
        with open(path, "wb") as f:
            f.write(data)


# ----------------------------------------------------------------------------------------------- PNG reader
def read_png(path):
    """A small independent reader (non-interlaced, depth 8/16, grey/RGB/GA/RGBA) for the 16-bit codec sample."""
    data = open(path, "rb").read()
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ct, _, _, inter = struct.unpack(">IIBBBBB", body)
            assert inter == 0 and depth in (8, 16) and ct in (0, 2, 4, 6)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    ch = CHANNELS[ct]
    bpp = ch * depth // 8
    stride = w * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(h):
        line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        f, cur = line[0], bytearray(line[1:])
        for i in range(stride):
            a = cur[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            cur[i] = (cur[i] + [0, a, b, (a + b) >> 1, paeth(a, b, c)][f]) & 0xFF
        rows.append(bytes(cur))
        prev = cur
    arr = np.frombuffer(b"".join(rows), dtype=">u2" if depth == 16 else "u1")
    return arr.reshape(h, w, ch).astype(np.int64), depth


# ----------------------------------------------------------------------------------------------- PNG suite
def pil_rgba_view(expected, maxval, depth):
    """What PIL's convert('RGBA') shows for our expected output (PIL keeps the high byte of 16-bit samples)."""
    e = expected.astype(np.int64)
    if maxval == 65535:
        e = e >> 8
    elif maxval < 255:
        e = e * 255 // maxval
    c = e.shape[2]
    if c == 1:
        e = np.concatenate([e, e, e, np.full_like(e, 255)], axis=2)
    elif c == 2:
        e = np.concatenate([e[..., :1]] * 3 + [e[..., 1:]], axis=2)
    elif c == 3:
        e = np.concatenate([e, np.full_like(e[..., :1], 255)], axis=2)
    return e


def png_suite(rng):
    d = os.path.join(OUT, "png-suite")
    os.makedirs(d, exist_ok=True)
    cases = []
    for depth in (1, 2, 4, 8, 16):
        cases += [(0, depth, False), (0, depth, True)]
    for depth in (8, 16):
        cases += [(2, depth, False), (2, depth, True), (4, depth, False), (6, depth, False)]
    for depth in (1, 2, 4, 8):
        cases += [(3, depth, False), (3, depth, True)]
    verified, partial = 0, []
    for ct, depth, use_trns in cases:
        for (w, h) in ((1, 1), (3, 5), (17, 9)):
            for interlace in (False, True):
                maxv = (1 << depth) - 1
                ch = CHANNELS[ct]
                s = rng.integers(0, maxv + 1, size=(h, w, ch))
                plte = trns = None
                if ct == 3:
                    n = min(1 << depth, 5 + depth * 20)  # leave some indices unused
                    s = rng.integers(0, n, size=(h, w, 1))
                    plte = rng.integers(0, 256, size=(n, 3))
                    if use_trns:
                        alpha = rng.integers(0, 256, size=n - 1)  # shorter than the palette: last entry opaque
                        trns = bytes(alpha.astype(np.uint8))
                    pal = plte
                    if use_trns:
                        a = np.concatenate([alpha, [255]])
                        pal = np.concatenate([plte, a[:, None]], axis=1)
                    expected, emax = pal[s[..., 0]], 255
                elif use_trns:
                    key = s[0, 0] if w * h > 1 else s[0, 0]
                    if ct == 0:
                        trns = struct.pack(">H", int(key[0]))
                        alpha = (s[..., 0] == key[0]).astype(np.int64)
                        expected = np.concatenate([s, ((1 - alpha) * maxv)[..., None]], axis=2)
                    else:
                        trns = struct.pack(">HHH", *(int(k) for k in key))
                        alpha = np.all(s == key, axis=2).astype(np.int64)
                        expected = np.concatenate([s, ((1 - alpha) * maxv)[..., None]], axis=2)
                    emax = maxv
                else:
                    expected, emax = s, maxv
                name = f"ct{ct}_d{depth}{'_trns' if use_trns else ''}_{w}x{h}{'_i' if interlace else ''}"
                path = os.path.join(d, name + ".png")
                write_png(path, s, ct, depth, interlace, plte, trns, idat_parts=3 if w * h > 1 else 1)
                write_pam(os.path.join(d, name + ".pam"), expected, emax)
                # Cross-check the writer with PIL.
                im = Image.open(path)
                im.load()
                if im.mode in ("I;16", "I;16B", "I"):
                    got = np.array(im).astype(np.int64)
                    assert np.array_equal(got, s[..., 0]), name
                    if use_trns:
                        assert im.info.get("transparency") == int(s[0, 0, 0]), name
                    verified += 1
                    continue
                if im.mode == "L" and use_trns and ct == 0:
                    assert im.info.get("transparency") is not None, name
                got = np.array(im.convert("RGBA")).astype(np.int64)
                want = pil_rgba_view(expected, emax, depth)
                if depth == 16 or (ct == 0 and use_trns and depth < 8):
                    # PIL drops 16-bit colour to 8 bits and handles low-depth grey keys its own way: compare colour.
                    assert np.array_equal(got[..., :3], want[..., :3]), name
                    partial.append(name)
                else:
                    assert np.array_equal(got, want), name
                    verified += 1
    print(f"png-suite: {len(cases) * 6} files, {verified} fully verified with PIL, {len(partial)} colour-only")


# ----------------------------------------------------------------------------------------------- codec samples
def codec_samples():
    d = os.path.join(OUT, "codec")
    os.makedirs(d, exist_ok=True)
    for name in ("foo3x5x4indexed", "palette_color", "horse", "chessboard_RGB"):
        src = os.path.join(SHARED, "codec", name + ".png")
        data = open(src, "rb").read()
        open(os.path.join(d, name + ".png"), "wb").write(data)
        im = Image.open(src)
        if name == "chessboard_RGB":
            arr, depth = read_png(src)
            assert depth == 16
            assert np.array_equal(arr >> 8, np.array(im.convert("RGB")).astype(np.int64))
            write_pam(os.path.join(d, name + ".pam"), arr, 65535)
            continue
        has_alpha = im.mode in ("RGBA", "LA") or "transparency" in im.info
        arr = np.array(im.convert("RGBA" if has_alpha else "RGB"))
        write_pam(os.path.join(d, name + ".pam"), arr, 255)
    # A JPEG cut short, for the facade's signature dispatch and bad-input handling.
    data = open(os.path.join(SHARED, "codec", "truncated.jpg"), "rb").read()
    open(os.path.join(d, "truncated.jpg"), "wb").write(data)
    # PNGs written by PIL's own encoder (its filters and zlib settings), with expected pixels from PIL.
    chelsea = Image.open(os.path.join(SHARED, "content", "chelsea.png")).convert("RGB")
    crop = chelsea.crop((180, 60, 244, 108))  # 64x48, the cat's face
    crop.save(os.path.join(d, "pil_rgb.png"), optimize=True)
    write_pam(os.path.join(d, "pil_rgb.pam"), np.array(crop), 255)
    grey = crop.convert("L")
    grey.save(os.path.join(d, "pil_l.png"))
    write_pam(os.path.join(d, "pil_l.pam"), np.array(grey)[..., None], 255)
    la = Image.merge("LA", (grey, grey.point(lambda v: 255 - v)))
    la.save(os.path.join(d, "pil_la.png"))
    write_pam(os.path.join(d, "pil_la.pam"), np.array(la), 255)
    pal = crop.quantize(16)
    pal.save(os.path.join(d, "pil_p16.png"), bits=4)
    write_pam(os.path.join(d, "pil_p16.pam"), np.array(pal.convert("RGB")), 255)
    i16 = Image.fromarray((np.array(grey).astype(np.uint16) * 257 + 3).astype(np.uint16))
    i16.save(os.path.join(d, "pil_i16.png"))
    back = np.array(Image.open(os.path.join(d, "pil_i16.png"))).astype(np.int64)
    write_pam(os.path.join(d, "pil_i16.pam"), back[..., None], 65535)
    print("codec samples written")


# ----------------------------------------------------------------------------------------------- resampling
def write_f32(path, arr):
    save(path, np.ascontiguousarray(arr, dtype="<f4").tobytes())


def resample():
    d = os.path.join(OUT, "resample")
    os.makedirs(d, exist_ok=True)
    chelsea = Image.open(os.path.join(SHARED, "content", "chelsea.png")).convert("RGB")
    src = chelsea.crop((150, 40, 246, 104))  # 96x64
    src.save(os.path.join(d, "src_rgb_96x64.png"))
    brick = Image.open(os.path.join(SHARED, "textures", "brick.png")).convert("L").crop((0, 0, 41, 29))
    brick.save(os.path.join(d, "src_l_41x29.png"))
    filters = {"lanczos": Image.LANCZOS, "bicubic": Image.BICUBIC, "bilinear": Image.BILINEAR}
    jobs = [("src_rgb_96x64", src, (37, 23)), ("src_rgb_96x64", src, (48, 32)), ("src_rgb_96x64", src, (131, 77)),
            ("src_rgb_96x64", src, (150, 40)), ("src_rgb_96x64", src, (96, 64)),
            ("src_l_41x29", brick, (13, 10)), ("src_l_41x29", brick, (100, 71))]
    for name, im, (w, h) in jobs:
        arr = np.array(im).astype(np.float32) / 255.0
        if arr.ndim == 2:
            arr = arr[..., None]
        for fname, f in filters.items():
            if fname != "lanczos" and (w, h) not in ((37, 23), (131, 77)):
                continue
            outs = []
            for c in range(arr.shape[2]):
                plane = Image.fromarray(arr[..., c], mode="F").resize((w, h), f)
                outs.append(np.array(plane))
            ref = np.clip(np.stack(outs, axis=2), 0.0, 1.0)
            write_f32(os.path.join(d, f"{name}_{fname}_{w}x{h}.f32"), ref)
        if im.mode == "RGB":
            eight = np.array(im.resize((w, h), Image.LANCZOS))
            write_pam(os.path.join(d, f"{name}_lanczos8_{w}x{h}.pam"), eight, 255)
    # RGBA: PIL resizes premultiplied (RGBa). Float reference: the same steps with mode 'F' planes.
    # Source: a chelsea crop with a synthetic alpha (a soft-edged disc; fully transparent corners hold garbage green).
    rgb = np.array(chelsea.crop((170, 50, 250, 110))).astype(np.int64)
    yy, xx = np.mgrid[0:60, 0:80]
    r = np.hypot(xx - 40, yy - 30)
    alpha = np.clip((32 - r) / 8, 0, 1)
    alpha8 = np.round(alpha * 255).astype(np.int64)
    rgb[alpha8 == 0] = [0, 255, 0]
    horse = Image.fromarray(np.concatenate([rgb, alpha8[..., None]], axis=2).astype(np.uint8), "RGBA")
    horse.save(os.path.join(d, "src_rgba_80x60.png"))
    arr = np.array(horse).astype(np.float32) / 255.0
    for (w, h) in ((37, 29), (150, 111)):
        alpha = arr[..., 3]
        planes = [arr[..., c] * alpha for c in range(3)] + [alpha]
        outs = [np.clip(np.array(Image.fromarray(p.astype(np.float32), mode="F").resize((w, h), Image.LANCZOS)), 0, 1)
                for p in planes]
        a = outs[3]
        colour = [np.where(a > 0, np.minimum(o / np.where(a > 0, a, 1), 1), 0) for o in outs[:3]]
        write_f32(os.path.join(d, f"src_rgba_80x60_lanczos_{w}x{h}.f32"), np.stack(colour + [a], axis=2))
        eight = np.array(horse.resize((w, h), Image.LANCZOS))
        write_pam(os.path.join(d, f"src_rgba_80x60_lanczos8_{w}x{h}.pam"), eight, 255)
    print("resample references written")


# ----------------------------------------------------------------------------------------------- colour
def border_index(i, n, mode):
    if mode == "wrap":
        return i % n
    if n == 1:
        return 0
    period = 2 * n - 2
    i = abs(i) % period
    return period - i if i >= n else i


def burt_adelson(a=0.4):
    return np.array([0.25 - a / 2, 0.25, a, 0.25, 0.25 - a / 2])


def conv_axis(arr, kernel, axis, mode):
    r = len(kernel) // 2
    n = arr.shape[axis]
    out = np.zeros_like(arr, dtype=np.float64)
    for i in range(n):
        acc = 0.0
        for k in range(-r, r + 1):
            j = border_index(i + k, n, mode)
            acc = acc + kernel[k + r] * np.take(arr, j, axis=axis).astype(np.float64)
        idx = [slice(None)] * arr.ndim
        idx[axis] = i
        out[tuple(idx)] = acc
    return out


def reduce_ref(arr, mode):
    k = burt_adelson()
    b = conv_axis(conv_axis(arr, k, 1, mode), k, 0, mode)
    return b[::2, ::2]


def expand_ref(arr, w, h, mode):
    """out[y, x] = sum_m,n 4 w[x-2m] w[y-2n] g[n, m], coarse indices taken with the border mode."""
    k = burt_adelson()
    H, W = arr.shape[:2]

    def axis(g, n_out, ax):
        n_in = g.shape[ax]
        shape = list(g.shape)
        shape[ax] = n_out
        out = np.zeros(shape)
        for x in range(n_out):
            acc = 0.0
            for m in range((x - 2) // 2 - 1, (x + 2) // 2 + 2):
                t = x - 2 * m
                if -2 <= t <= 2:
                    acc = acc + 2 * k[t + 2] * np.take(g, border_index(m, n_in, mode), axis=ax)
            idx = [slice(None)] * g.ndim
            idx[ax] = x
            out[tuple(idx)] = acc
        return out

    return axis(axis(arr.astype(np.float64), w, 1), h, 0)


def gaussian_kernel(sigma):
    r = int(np.ceil(3 * sigma))
    x = np.arange(-r, r + 1)
    k = np.exp(-x * x / (2 * sigma * sigma))
    return k / k.sum()


def match_cumulative_cdf(source, template):
    """skimage.exposure._histogram_matching._match_cumulative_cdf, verbatim in numpy."""
    src_values, src_unique_indices, src_counts = np.unique(source.ravel(), return_inverse=True, return_counts=True)
    tmpl_values, tmpl_counts = np.unique(template.ravel(), return_counts=True)
    src_quantiles = np.cumsum(src_counts) / source.size
    tmpl_quantiles = np.cumsum(tmpl_counts) / template.size
    interp_a_values = np.interp(src_quantiles, tmpl_quantiles, tmpl_values)
    return interp_a_values[src_unique_indices].reshape(source.shape)


def colour():
    d = os.path.join(OUT, "colour")
    os.makedirs(d, exist_ok=True)
    chelsea = Image.open(os.path.join(SHARED, "content", "chelsea.png")).convert("RGB")
    src = chelsea.crop((200, 70, 233, 90))  # 33x20 (odd width for the pyramid)
    src.save(os.path.join(d, "src_33x20.png"))
    ycc = np.array(src.convert("YCbCr"))
    write_pam(os.path.join(d, "src_33x20_ycbcr.pam"), ycc, 255)
    arr = np.array(src).astype(np.float64) / 255.0
    for mode in ("reflect", "wrap"):
        red = reduce_ref(arr, mode)
        write_f32(os.path.join(d, f"reduce_{mode}_{red.shape[1]}x{red.shape[0]}.f32"), red)
        exp = expand_ref(red, 33, 20, mode)
        write_f32(os.path.join(d, f"expand_{mode}_33x20.f32"), exp)
    k = gaussian_kernel(1.5)
    blur = conv_axis(conv_axis(arr, k, 1, "reflect"), k, 0, "reflect")
    write_f32(os.path.join(d, "blur_reflect_s1.5_33x20.f32"), blur)
    coffee = Image.open(os.path.join(SHARED, "content", "coffee.png")).convert("RGB").crop((300, 100, 340, 127))
    coffee.save(os.path.join(d, "ref_40x27.png"))
    tmpl = np.array(coffee).astype(np.float32) / 255.0
    srcf = np.array(src).astype(np.float32) / 255.0
    matched = np.stack([match_cumulative_cdf(srcf[..., c], tmpl[..., c]) for c in range(3)], axis=2)
    write_f32(os.path.join(d, "histmatch_33x20.f32"), matched)
    print("colour references written")


if __name__ == "__main__":
    rng = np.random.default_rng(20261123)
    png_suite(rng)
    codec_samples()
    resample()
    colour()
