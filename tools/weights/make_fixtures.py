#!/usr/bin/python3
"""Writes the small weight-file fixtures of tests/NeuralStyle.Weights.Tests/Fixtures.

Run with Debian's interpreter (it has torch 1.13 + torchvision):  /usr/bin/python3 tools/weights/make_fixtures.py
Everything is random with a fixed seed; nothing is downloaded. The expected values are written
as safetensors (format written by hand below) and JSON, never by the code under test.
"""
import collections
import io
import json
import os
import struct
import zipfile

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "NeuralStyle.Weights.Tests", "Fixtures")


def write_safetensors(path, tensors):
    """safetensors by hand: 8-byte LE header length, JSON header, raw little-endian data (all float32 here)."""
    header = {}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        data = t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt", "source": "tools/weights/make_fixtures.py"}
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def save_both(obj, stem):
    torch.save(obj, os.path.join(OUT, stem + ".zip.pth"))
    torch.save(obj, os.path.join(OUT, stem + ".legacy.pth"), _use_new_zipfile_serialization=False)


def tensors_fixture():
    g = torch.Generator().manual_seed(1234)
    base_t = torch.randn(3, 5, generator=g)
    base_s = torch.randn(10, generator=g)
    shared = torch.randn(4, 4, generator=g)
    sd = collections.OrderedDict()
    sd["f32"] = torch.randn(3, 4, generator=g)
    sd["f64"] = torch.randn(2, 3, generator=g, dtype=torch.float64)
    sd["f16"] = torch.randn(5, generator=g).to(torch.float16)
    sd["bf16"] = torch.randn(4, generator=g).to(torch.bfloat16)
    sd["transposed"] = base_t.t()                 # non-contiguous view, strides (1, 5)
    sd["slice"] = base_s[3:8]                     # storage offset 3 into a 10-element storage
    sd["shared_row"] = shared[1]                  # shares one storage with shared_col
    sd["shared_col"] = shared[:, 2]               # offset 2, stride 4
    sd["scalar"] = torch.tensor(3.5)              # 0-d
    sd["num_batches_tracked"] = torch.tensor(7, dtype=torch.int64)
    sd["int_buf"] = torch.arange(-2, 4, dtype=torch.int64).reshape(2, 3)
    sd["param"] = nn.Parameter(torch.randn(2, 2, generator=g))  # pickled through _rebuild_parameter
    sd["empty"] = torch.zeros(0, 3)
    save_both(sd, "tensors")
    write_safetensors(os.path.join(OUT, "tensors.expected.safetensors"), sd)


VGG19_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]


def narrow_vgg19(div=16, hidden=16, classes=10):
    from torchvision.models.vgg import VGG, make_layers
    cfg = [c if c == "M" else c // div for c in VGG19_CFG]
    model = VGG(make_layers(cfg), num_classes=classes, init_weights=True)
    last = cfg[-2]
    # Same indices as torchvision's classifier (0, 3, 6 are the Linear layers), narrower.
    model.classifier = nn.Sequential(
        nn.Linear(last * 7 * 7, hidden), nn.ReLU(True), nn.Dropout(),
        nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(),
        nn.Linear(hidden, classes))
    return model


def vgg_fixture():
    torch.manual_seed(19)
    model = narrow_vgg19()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.01)  # make biases non-zero too
    sd = model.state_dict()
    save_both(sd, "vgg19_narrow")
    expected = collections.OrderedDict()
    for k, v in sd.items():
        flat = v.detach().to(torch.float64).flatten()
        expected[k] = {
            "shape": list(v.shape),
            "sum": float(flat.sum()),
            "abs_sum": float(flat.abs().sum()),
            "first": [float(x) for x in v.detach().flatten()[:4]],
            "last": float(v.detach().flatten()[-1]),
        }
    with open(os.path.join(OUT, "vgg19_narrow.expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


def whole_module_fixture():
    # torch.save(model) pickles the module's class: must be refused by name, never imported.
    torch.manual_seed(3)
    torch.save(nn.Linear(2, 2), os.path.join(OUT, "whole_module.zip.pth"))


def malicious_fixture():
    # A PyTorch-looking zip whose data.pkl calls os.system('echo pwned'). Built from raw opcodes; never unpickled here.
    pkl = (b"\x80\x02"                       # PROTO 2
           b"cos\nsystem\n"                  # GLOBAL os.system
           b"q\x00"                          # BINPUT 0
           b"X\x0a\x00\x00\x00echo pwned"    # BINUNICODE
           b"\x85"                           # TUPLE1
           b"R"                              # REDUCE
           b".")                             # STOP
    with zipfile.ZipFile(os.path.join(OUT, "malicious_os_system.pth"), "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/version", "3\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    tensors_fixture()
    vgg_fixture()
    whole_module_fixture()
    malicious_fixture()
    for name in sorted(os.listdir(OUT)):
        print(f"{os.path.getsize(os.path.join(OUT, name)):>9}  {name}")


if __name__ == "__main__":
    main()
