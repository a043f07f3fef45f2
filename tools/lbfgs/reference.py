#!/usr/bin/python3
"""The neural-style preset on NeuralStyle's embedded random VGG-19, in PyTorch (torch.optim.LBFGS), to compare
our L-BFGS trajectory with torch's on the identical problem.

    /usr/bin/python3 tools/lbfgs/reference.py --content C.png --style S.png [--flavour caffe] \
        [--style-weight 1e5] [--iterations 20] [--line-search] [--float64] [--log out.jsonl]

The images must already have the output size (content) and the style size (style scale 1: long edge = the
content's long edge): prepare them with tools/lbfgs/prepare_images.py so both sides see the same pixels.
Loss (spec section 2, neural-style preset): 5 * mean((F - Fc)^2) at relu4_2; for relu1_1..relu5_1
style_weight * mean((G/(C h w) - A)^2); 1e-3 * L1 TV; max pooling; init = the content image in input space.
Writes one JSON line per function evaluation ({"evaluation": k, "loss": ...}) and prints the loss after each
iteration (torch's state["n_iter"]).
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import random_vgg  # noqa: E402

CAFFE_MEAN_BGR = [103.939, 116.779, 123.68]
TV_MEAN, TV_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
CONTENT, STYLE = [22], [1, 6, 11, 20, 29]  # relu4_2; relu1_1, relu2_1, relu3_1, relu4_1, relu5_1 (features indices)


def load(path, dtype):
    a = np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8)
    return (torch.from_numpy(a.copy()).permute(2, 0, 1).unsqueeze(0).to(dtype) / 255.0).contiguous()


def to_input(rgb01, flavour):
    dt = rgb01.dtype
    if flavour == "caffe":
        return rgb01[:, [2, 1, 0]] * 255.0 - torch.tensor(CAFFE_MEAN_BGR, dtype=dt).view(1, 3, 1, 1)
    return (rgb01 - torch.tensor(TV_MEAN, dtype=dt).view(1, 3, 1, 1)) / torch.tensor(TV_STD, dtype=dt).view(1, 3, 1, 1)


class Net:
    def __init__(self, weights, dtype):
        self.w = {k: torch.from_numpy(v).to(dtype) for k, v in weights.items()}

    def features(self, x, upto):
        out = {}
        for i in range(upto + 1):
            kind = random_vgg.kind(i)
            if kind == "conv":
                x = F.conv2d(x, self.w[i], padding=1)
            elif kind == "relu":
                x = F.relu(x)
            else:
                x = F.max_pool2d(x, 2, 2)
            out[i] = x
        return out


def gram_normalised(f):
    _, c, h, w = f.shape
    m = f.reshape(c, h * w)
    return torch.mm(m, m.t()) / f.numel()


class Problem:
    def __init__(self, net, content, style, flavour, style_weight, content_weight=5.0, tv_weight=1e-3):
        self.net, self.sw, self.cw, self.tw = net, style_weight, content_weight, tv_weight
        deepest = max(CONTENT + STYLE)
        self.deepest = deepest
        with torch.no_grad():
            fc = net.features(to_input(content, flavour), deepest)
            self.fc = {i: fc[i].clone() for i in CONTENT}
            fs = net.features(to_input(style, flavour), deepest)
            self.a = {i: gram_normalised(fs[i]) for i in STYLE}

    def terms(self, x):
        feats = self.net.features(x, self.deepest)
        t = {}
        for i in CONTENT:
            t["content"] = self.cw * torch.mean((feats[i] - self.fc[i]) ** 2)
        for i in STYLE:
            t["style:%d" % i] = self.sw * torch.mean((gram_normalised(feats[i]) - self.a[i]) ** 2)
        dy = x[:, :, 1:, :] - x[:, :, :-1, :]
        dx = x[:, :, :, 1:] - x[:, :, :, :-1]
        t["tv"] = self.tw * (torch.sum(torch.abs(dy)) + torch.sum(torch.abs(dx)))
        return t

    def loss(self, x):
        total = None
        for v in self.terms(x).values():
            total = v if total is None else total + v
        return total


def run(problem, x0, iterations, line_search, history=100, lr=1.0, on_eval=None, on_iter=None):
    """torch.optim.LBFGS(max_iter=iterations) in one step(closure), as neural-style-pt does. Returns x."""
    x = x0.clone().contiguous().requires_grad_(True)
    opt = torch.optim.LBFGS([x], lr=lr, max_iter=iterations, history_size=history,
                            tolerance_grad=-1, tolerance_change=-1,
                            line_search_fn="strong_wolfe" if line_search else None)
    state = {"evals": 0, "iter": 0}

    def closure():
        opt.zero_grad()
        loss = problem.loss(x)
        loss.backward()
        if on_eval:
            on_eval(state["evals"], loss.item())
        state["evals"] += 1
        # torch has no per-iteration hook: state n_iter grows before each iteration's evaluations.
        n = opt.state[opt._params[0]].get("n_iter", 0)
        if on_iter and n != state["iter"]:
            state["iter"] = n
        return loss

    opt.step(closure)
    return x.detach(), state["evals"], opt.state[opt._params[0]]["n_iter"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--content", required=True)
    ap.add_argument("--style", required=True)
    ap.add_argument("--flavour", default="caffe", choices=["caffe", "torchvision"])
    ap.add_argument("--style-weight", type=float, default=100.0)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--line-search", action="store_true")
    ap.add_argument("--float64", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--log")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dtype = torch.float64 if args.float64 else torch.float32
    net = Net(random_vgg.random_vgg19_weights(last_conv=28, cache_dir=os.path.expanduser("~/.cache/neuralstyle-tools")), dtype)
    content, style = load(args.content, dtype), load(args.style, dtype)
    p = Problem(net, content, style, args.flavour, args.style_weight)
    x0 = to_input(content, args.flavour)
    rows = []
    x, evals, iters = run(p, x0, args.iterations, args.line_search,
                          on_eval=lambda k, v: (rows.append({"evaluation": k, "loss": v}), print(k, v, flush=True)))
    final = p.loss(x).item()
    print("evaluations %d, iterations %d, final loss %.6g" % (evals, iters, final))
    if args.log:
        with open(args.log, "w") as f:
            for r in rows + [{"evaluation": evals, "loss": final, "final": True}]:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
