"""The embedded random VGG-19 of NeuralStyle (VggNet.Random, spec section 7) rebuilt in Python, bit for bit.

VggNet.Random(Vgg19, seed) draws, for each conv of torchvision's `features` in index order, a weight tensor of
shape (out, in, 3, 3) from N(0, sqrt(2 / (in * 9))) with the C# Rng (xoshiro256** seeded by SplitMix64, Gaussians
by the polar Box-Muller method, the spare kept between calls), cast to float32; biases are zero. This file repeats
that stream so PyTorch can run the identical network without exporting 80 MB of weights.
"""
import math
import os

import numpy as np

MASK = (1 << 64) - 1
EMBEDDED_SEED = 20170601  # Backbone.RandomSeed
CFG19 = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
         512, 512, 512, 512, "M"]


class Rng:
    """NeuralStyle.Tensors.Rng: xoshiro256** seeded by SplitMix64; NextGaussian = polar method with a spare."""

    def __init__(self, seed):
        z, s = seed, []
        for _ in range(4):
            z = (z + 0x9E3779B97F4A7C15) & MASK
            r = z
            r = ((r ^ (r >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            r = ((r ^ (r >> 27)) * 0x94D049BB133111EB) & MASK
            s.append(r ^ (r >> 31))
        self.s = s
        self.spare = None

    def gaussians(self, n, std):
        """n values float64(std * NextGaussian()) (the C# code casts 0 + std * g to float32)."""
        s0, s1, s2, s3 = self.s
        out = [0.0] * n
        i = 0
        if self.spare is not None and n > 0:
            out[0] = std * self.spare
            self.spare = None
            i = 1
        k53 = 1.0 / (1 << 53)
        log, sqrt = math.log, math.sqrt
        while i < n:
            m = (s1 * 5) & MASK
            res = ((((m << 7) | (m >> 57)) & MASK) * 9) & MASK
            t = (s1 << 17) & MASK
            s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = ((s3 << 45) | (s3 >> 19)) & MASK
            u = 2 * ((res >> 11) * k53) - 1
            m = (s1 * 5) & MASK
            res = ((((m << 7) | (m >> 57)) & MASK) * 9) & MASK
            t = (s1 << 17) & MASK
            s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = ((s3 << 45) | (s3 >> 19)) & MASK
            v = 2 * ((res >> 11) * k53) - 1
            r = u * u + v * v
            if r >= 1 or r == 0:
                continue
            k = sqrt(-2 * log(r) / r)
            out[i] = std * (u * k)
            i += 1
            if i < n:
                out[i] = std * (v * k)
                i += 1
            else:
                self.spare = v * k
        self.s = [s0, s1, s2, s3]
        return out


def random_vgg19_weights(seed=EMBEDDED_SEED, last_conv=None, cache_dir=None):
    """{features index: float32 ndarray (out, in, 3, 3)} for every conv up to `last_conv` (a features index;
    None = all). Cached as .npy under cache_dir when given (the stream takes ~15 s in pure Python)."""
    path = None
    if cache_dir:
        path = os.path.join(cache_dir, "random_vgg19_%d.npz" % seed)
        if os.path.exists(path):
            with np.load(path) as z:
                return {int(k): z[k] for k in z.files if last_conv is None or int(k) <= last_conv}
    rng = Rng(seed)
    weights, cin, idx = {}, 3, 0
    for v in CFG19:
        if v == "M":
            idx += 1
            continue
        if last_conv is not None and idx > last_conv and path is None:
            break
        std = math.sqrt(2.0 / (cin * 9))
        weights[idx] = np.asarray(rng.gaussians(v * cin * 9, std), dtype=np.float64).astype(np.float32).reshape(v, cin, 3, 3)
        cin = v
        idx += 2
    if path:
        os.makedirs(cache_dir, exist_ok=True)
        np.savez(path, **{str(k): w for k, w in weights.items()})
    return {k: w for k, w in weights.items() if last_conv is None or k <= last_conv}


def kind(index):
    """'conv', 'relu' or 'pool' for a VGG-19 `features` index."""
    i = 0
    for v in CFG19:
        if v == "M":
            if i == index:
                return "pool"
            i += 1
        else:
            if i == index:
                return "conv"
            if i + 1 == index:
                return "relu"
            i += 2
    raise IndexError(index)
