#!/usr/bin/python3
"""The PyTorch peer of the NeuralStyle benchmark harness (bench/NeuralStyle.Bench).

Run with Debian's python3-torch: `/usr/bin/python3 bench/peers/peer.py`. It is a long-lived server: it reads one
JSON request per line on stdin and answers one JSON line on stdout, so torch's import cost is paid once.

Requests:
  {"op": "hello"}                         -> {"ok": true, "torch": "1.13.1", "threads": 2, ...}
  {"op": "begin", "case": {...}}          -> sets the case up (tensors, model, targets), resets the peak-memory mark
  {"op": "run", "case": {...}}            -> runs the case once: {"ok": true, "seconds": s, "peak_kb": k, ...}
  {"op": "quit"}                          -> exits
On any failure: {"ok": false, "error": "..."} (the server keeps running).

Each case computes exactly what the C# case computes (NCHW here, NHWC there):
  conv_fwd / conv_bwd_input / conv_bwd_weights   one 3x3 conv, stride 1, zero padding 1, with bias
  conv2d_fwd / conv2d_bwd_input / conv2d_bwd_weights   one k x k conv, any stride, with bias; padding "reflect"
                                                  is ReflectionPad2d(k//2) + Conv2d (the Johnson network's layers)
  vgg_fwd / vgg_fwdbwd                            torchvision vgg19().features[:30] (to relu5_1); loss = mean(out^2)
  gatys_iter                                      one forward+backward of the neural-style preset's loss
  resnet_gatys_iter                               one forward+backward of the swag preset's loss on torchvision's
                                                  resnet50() (random init, eval mode): content layer3, style relu and
                                                  layer1..4, softmax over channels on layer3/layer4, style ×1e17
  stylize                                         a whole neural-style stylisation with torch.optim.LBFGS
  johnson_fwd                                     pytorch/examples' TransformerNet (random init), batch 1, no_grad
  johnson_train_step                              one training step of fast_neural_style (spec §5): TransformerNet +
                                                  VGG-16 to relu4_3, content 1e5 (relu2_2) + style 1e10 (Gram MSE at
                                                  relu1_2/2_2/3_3/4_3), backward, Adam(1e-3); batch 4 at h×w
  bank_train_step                                 one stylising step of StyleBank training (spec §6): encoder (the
                                                  TransformerNet's first three layers), one 3×3 128→128 filter set per
                                                  style (batch 4, a different style per sample), decoder; VGG-16 to
                                                  relu4_2, content relu4_2 + 1e6 · style Gram MSE at relu1_2/2_2/3_2/4_2
                                                  + 1e-5 · TV; backward, Adam(1e-3) over what the batch used

`peer.py --export-johnson PATH` writes the same TransformerNet (random init, seed 0) as ONNX (opset 13, dynamic H/W,
input "input" / output "output", NCHW RGB 0-255) for the harness's ONNX Runtime side, and exits.
"""
import json
import math
import resource
import sys
import time

try:
    import torch
    import torch.nn.functional as F
    import torchvision
except Exception as e:  # pragma: no cover - reported to the harness
    sys.stdout.write(json.dumps({"ok": False, "error": f"cannot import torch/torchvision: {e}"}) + "\n")
    sys.stdout.flush()
    sys.exit(3)

THREADS = 2
torch.set_num_threads(THREADS)
torch.manual_seed(0)

# neural-style preset (spec §2): relu4_2 content ×5 (mean), relu1_1…relu5_1 style ×100 (mean of (G/(C·h·w) − A)²),
# L1 total variation ×1e-3, caffe input space, L-BFGS history 100, learning rate 1.
CONTENT_INDEX = 22
STYLE_INDICES = [1, 6, 11, 20, 29]
CONTENT_WEIGHT, STYLE_WEIGHT, TV_WEIGHT = 5.0, 100.0, 1e-3
CAFFE_MEAN_BGR = [103.939, 116.779, 123.68]


def reset_peak():
    """Resets the kernel's peak-RSS mark (VmHWM, which getrusage's ru_maxrss also reads) to the current RSS."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def features_to_relu5_1():
    # torchvision.models.vgg19().features[:30] without building the unused 548 MB classifier (it would inflate the
    # peak memory), with the same Kaiming-normal (fan-in) weights and zero biases as our VggNet.Random.
    net = torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs["E"])[:30]
    for m in net:
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            torch.nn.init.zeros_(m.bias)
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def synthetic_rgb(w, h, kind):
    """The harness's deterministic test pattern (same formula as Synthetic.cs), RGB in [0,1], shape (3,H,W)."""
    y = torch.arange(h, dtype=torch.float64).view(h, 1).expand(h, w)
    x = torch.arange(w, dtype=torch.float64).view(1, w).expand(h, w)
    if kind == "content":
        r = 0.5 + 0.5 * torch.sin(x * 0.031 + y * 0.017)
        g = 0.5 + 0.5 * torch.cos(x * 0.023 - y * 0.029)
        b = 0.5 + 0.5 * torch.sin((x + y) * 0.011)
    else:
        r = 0.5 + 0.5 * torch.sin(x * 0.13) * torch.cos(y * 0.07)
        g = 0.5 + 0.5 * torch.sin(x * 0.05 + y * 0.11)
        b = 0.5 + 0.5 * torch.cos(x * 0.09) * torch.sin(y * 0.15)
    return torch.stack([r, g, b]).float()


def caffe(rgb):
    """RGB [0,1] (3,H,W) -> caffe input space (1,3,H,W): BGR·255 − mean."""
    bgr = rgb[[2, 1, 0]] * 255.0
    mean = torch.tensor(CAFFE_MEAN_BGR).view(3, 1, 1)
    return (bgr - mean).unsqueeze(0).contiguous()


def gram(f):
    """G/(C·h·w) with G = F Fᵀ, F the C×(h·w) matrix.

    Debian's torch is built against the reference netlib BLAS (BLAS_INFO=generic), where `m @ m.t()` runs at
    ~2.5 GFLOP/s (0.43 s forward + 0.57 s backward for relu1_1 at 512×384). The same product as a 1×1 convolution
    goes through oneDNN and is 8-20× faster, so the peer uses that: input (1, h·w, 1, C) = Fᵀ, weight (C, h·w, 1, 1)
    = F, output (1, C, 1, C) = F Fᵀ. Autograd flows through both operands.
    """
    _, c, h, w = f.shape
    m = f.view(c, h * w)
    g = F.conv2d(m.t().contiguous().view(1, h * w, 1, c), m.view(c, h * w, 1, 1)).view(c, c)
    return g / (c * h * w)


class ResNetSwagLoss:
    """The swag preset's loss (spec §1, peiwang062/swag) on a random torchvision ResNet-50: targets computed once."""

    def __init__(self, w, h):
        self.net = torchvision.models.resnet50().eval()
        for p in self.net.parameters():
            p.requires_grad_(False)
        with torch.no_grad():
            cf = self.run(torchvision_input(synthetic_rgb(w, h, "content")))
            sf = self.run(torchvision_input(synthetic_rgb(w, h, "style")))
            self.content_target = cf["layer3"].clone()
            self.style_targets = {k: gram(v).clone() for k, v in sf.items()}

    def run(self, x):
        n = self.net
        out = {}
        x = n.relu(n.bn1(n.conv1(x)))
        out["relu"] = x
        x = n.maxpool(x)
        for name in ("layer1", "layer2", "layer3", "layer4"):
            x = getattr(n, name)(x)
            out[name] = torch.softmax(x, dim=1) if name in ("layer3", "layer4") else x
        return out

    def __call__(self, x):
        f = self.run(x)
        loss = F.mse_loss(f["layer3"], self.content_target)
        for k, t in self.style_targets.items():
            loss = loss + 1e17 * F.mse_loss(gram(f[k]), t)
        return loss


def torchvision_input(rgb):
    """RGB [0,1] (3,H,W) -> torchvision input space (1,3,H,W)."""
    mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
    return ((rgb - mean) / std).unsqueeze(0).contiguous()


class GatysLoss:
    """The neural-style loss at one size: targets computed once, __call__(x) -> scalar loss."""

    def __init__(self, w, h):
        self.net = features_to_relu5_1()
        with torch.no_grad():
            cf = self.run(caffe(synthetic_rgb(w, h, "content")))
            sf = self.run(caffe(synthetic_rgb(w, h, "style")))
            self.content_target = cf[CONTENT_INDEX].clone()
            self.style_targets = [gram(sf[i]).clone() for i in STYLE_INDICES]

    def run(self, x):
        out = {}
        for i, layer in enumerate(self.net):
            x = layer(x)
            if i == CONTENT_INDEX or i in STYLE_INDICES:
                out[i] = x
        return out

    def __call__(self, x):
        f = self.run(x)
        loss = CONTENT_WEIGHT * F.mse_loss(f[CONTENT_INDEX], self.content_target)
        for i, t in zip(STYLE_INDICES, self.style_targets):
            loss = loss + STYLE_WEIGHT * F.mse_loss(gram(f[i]), t)
        tv = (x[:, :, 1:, :] - x[:, :, :-1, :]).abs().sum() + (x[:, :, :, 1:] - x[:, :, :, :-1]).abs().sum()
        return loss + TV_WEIGHT * tv


class ConvLayer(torch.nn.Module):
    def __init__(self, cin, cout, k, stride):
        super().__init__()
        self.reflection_pad = torch.nn.ReflectionPad2d(k // 2)
        self.conv2d = torch.nn.Conv2d(cin, cout, k, stride)

    def forward(self, x):
        return self.conv2d(self.reflection_pad(x))


class ResidualBlock(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = ConvLayer(c, c, 3, 1)
        self.in1 = torch.nn.InstanceNorm2d(c, affine=True)
        self.conv2 = ConvLayer(c, c, 3, 1)
        self.in2 = torch.nn.InstanceNorm2d(c, affine=True)

    def forward(self, x):
        return self.in2(self.conv2(F.relu(self.in1(self.conv1(x))))) + x


class UpsampleConvLayer(torch.nn.Module):
    def __init__(self, cin, cout, k, upsample):
        super().__init__()
        self.upsample = upsample
        self.reflection_pad = torch.nn.ReflectionPad2d(k // 2)
        self.conv2d = torch.nn.Conv2d(cin, cout, k, 1)

    def forward(self, x):
        x = F.interpolate(x, mode="nearest", scale_factor=self.upsample)
        return self.conv2d(self.reflection_pad(x))


class TransformerNet(torch.nn.Module):
    """pytorch/examples fast_neural_style transformer_net.py (spec §5)."""

    def __init__(self):
        super().__init__()
        self.conv1 = ConvLayer(3, 32, 9, 1)
        self.in1 = torch.nn.InstanceNorm2d(32, affine=True)
        self.conv2 = ConvLayer(32, 64, 3, 2)
        self.in2 = torch.nn.InstanceNorm2d(64, affine=True)
        self.conv3 = ConvLayer(64, 128, 3, 2)
        self.in3 = torch.nn.InstanceNorm2d(128, affine=True)
        self.res = torch.nn.Sequential(*[ResidualBlock(128) for _ in range(5)])
        self.deconv1 = UpsampleConvLayer(128, 64, 3, 2)
        self.in4 = torch.nn.InstanceNorm2d(64, affine=True)
        self.deconv2 = UpsampleConvLayer(64, 32, 3, 2)
        self.in5 = torch.nn.InstanceNorm2d(32, affine=True)
        self.deconv3 = ConvLayer(32, 3, 9, 1)

    def forward(self, x):
        y = F.relu(self.in1(self.conv1(x)))
        y = F.relu(self.in2(self.conv2(y)))
        y = F.relu(self.in3(self.conv3(y)))
        y = self.res(y)
        y = F.relu(self.in4(self.deconv1(y)))
        y = F.relu(self.in5(self.deconv2(y)))
        return self.deconv3(y)


def export_johnson(path):
    torch.manual_seed(0)
    net = TransformerNet().eval()
    x = torch.rand(1, 3, 64, 64) * 255
    torch.onnx.export(net, x, path, opset_version=13, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {2: "h", 3: "w"}, "output": {2: "oh", 3: "ow"}})


# torchvision vgg16().features indices of relu1_2, relu2_2, relu3_3, relu4_3
VGG16_STYLE = [3, 8, 15, 22]
VGG16_CONTENT = 8


def plain_gram(f):
    """pytorch/examples utils.gram_matrix: bmm(F, Fᵀ)/(C·h·w) per sample (batched, as the reference trains)."""
    b, c, h, w = f.shape
    m = f.view(b, c, h * w)
    return m.bmm(m.transpose(1, 2)) / (c * h * w)


class LossVgg16:
    """The training steps' loss network: torchvision's VGG-16 features up to the deepest layer used, Kaiming-normal
    weights and zero biases (as our random VGG-16), frozen; features() takes 0-255 RGB and returns (content, [style])."""

    def __init__(self, content_index, style_indices):
        vgg = torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs["D"])[:max(content_index, *style_indices) + 1]
        for m in vgg:
            if isinstance(m, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                torch.nn.init.zeros_(m.bias)
        for p in vgg.parameters():
            p.requires_grad_(False)
        self.vgg = vgg.eval()
        self.content_index, self.style_indices = content_index, style_indices
        self.mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
        self.std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

    def features(self, x):
        x = (x / 255.0 - self.mean) / self.std
        style, content = [], None
        for i, layer in enumerate(self.vgg):
            x = layer(x)
            if i == self.content_index:
                content = x
            if i in self.style_indices:
                style.append(x)
        return content, style


class JohnsonTrainStep:
    """One step of pytorch/examples neural_style.py train(): random VGG-16 (Kaiming, as ours), random style target."""

    def __init__(self, n, h, w, g):
        self.net = TransformerNet()
        self.loss_net = LossVgg16(VGG16_CONTENT, VGG16_STYLE)
        self.features = self.loss_net.features
        self.opt = torch.optim.Adam(self.net.parameters(), 1e-3)
        self.x = torch.rand(n, 3, h, w, generator=g) * 255
        with torch.no_grad():
            style = torch.rand(1, 3, h, w, generator=g) * 255
            self.gram_style = [plain_gram(f).expand(n, -1, -1) for f in self.features(style)[1]]

    def __call__(self):
        self.opt.zero_grad()
        y = self.net(self.x)
        cy, sy = self.features(y)
        with torch.no_grad():
            cx, _ = self.features(self.x)
        content = 1e5 * F.mse_loss(cy, cx)
        style = 0.0
        for f, gs in zip(sy, self.gram_style):
            style = style + F.mse_loss(plain_gram(f), gs)
        loss = content + 1e10 * style
        loss.backward()
        self.opt.step()
        return float(loss)


class StyleBankNet(torch.nn.Module):
    """The StyleBank network as our StyleBankNet: E = conv 9×9 3→32, 3×3/2 32→64, 3×3/2 64→128 (reflection padding,
    instance norm with affine, ReLU); Kᵢ = conv 3×3 128→128 per style; D = nearest ×2 + conv 3×3 128→64, ×2 + 64→32
    (instance norm, ReLU), conv 9×9 32→3."""

    def __init__(self, styles):
        super().__init__()

        def conv(ci, co, k, stride=1):
            return torch.nn.Sequential(torch.nn.ReflectionPad2d(k // 2), torch.nn.Conv2d(ci, co, k, stride))

        def block(ci, co, k, stride=1):
            return [conv(ci, co, k, stride), torch.nn.InstanceNorm2d(co, affine=True), torch.nn.ReLU()]
        self.encoder = torch.nn.Sequential(*block(3, 32, 9), *block(32, 64, 3, 2), *block(64, 128, 3, 2))
        self.bank = torch.nn.ModuleList([conv(128, 128, 3) for _ in range(styles)])
        self.decoder = torch.nn.Sequential(torch.nn.Upsample(scale_factor=2, mode="nearest"), *block(128, 64, 3),
                                           torch.nn.Upsample(scale_factor=2, mode="nearest"), *block(64, 32, 3),
                                           conv(32, 3, 9))

    def forward(self, x, styles):
        f = self.encoder(x)
        return self.decoder(torch.cat([self.bank[s](f[k:k + 1]) for k, s in enumerate(styles)], 0))


# torchvision vgg16().features indices of relu1_2, relu2_2, relu3_2, relu4_2 (the StyleBank losses)
BANK_STYLE = [3, 8, 13, 20]
BANK_CONTENT = 20


class BankTrainStep:
    """One stylising step of StyleBank training, four styles in the batch (one per sample), as our BankTrainer."""

    def __init__(self, n, h, w, g):
        self.net = StyleBankNet(n)
        self.styles = list(range(n))
        self.loss_net = LossVgg16(BANK_CONTENT, BANK_STYLE)
        self.features = self.loss_net.features
        self.opt = torch.optim.Adam(self.net.parameters(), 1e-3)
        self.x = torch.rand(n, 3, h, w, generator=g) * 255
        with torch.no_grad():
            grams = [[plain_gram(f) for f in self.features(torch.rand(1, 3, h, w, generator=g) * 255)[1]] for _ in range(n)]
            self.gram_style = [torch.cat([grams[k][l] for k in range(n)], 0) for l in range(len(BANK_STYLE))]

    def __call__(self):
        self.opt.zero_grad()
        y = self.net(self.x, self.styles)
        cy, sy = self.features(y)
        with torch.no_grad():
            cx, _ = self.features(self.x)
        content = F.mse_loss(cy, cx)
        style = 0.0
        for f, gs in zip(sy, self.gram_style):
            style = style + F.mse_loss(plain_gram(f), gs)
        z = y / 255.0
        tv = (z[:, :, 1:, :] - z[:, :, :-1, :]).abs().sum() + (z[:, :, :, 1:] - z[:, :, :, :-1]).abs().sum()
        loss = content + 1e6 * style + 1e-5 * tv
        loss.backward()
        self.opt.step()
        return float(loss)


class Case:
    """A set-up case: run() does one timed repetition and returns extra fields for the answer."""

    def __init__(self, spec):
        self.spec = spec
        kind = spec["kind"]
        g = torch.Generator().manual_seed(1234)
        if kind.startswith("conv2d_"):
            ci, co, h, w, k, s = spec["ci"], spec["co"], spec["h"], spec["w"], spec["k"], spec["stride"]
            p = k // 2
            self.x = torch.randn(1, ci, h, w, generator=g)
            self.w = torch.randn(co, ci, k, k, generator=g) * math.sqrt(2.0 / (k * k * ci))
            self.b = torch.randn(co, generator=g) * 0.1
            assert spec["padding"] == "reflect"
            self.conv2d = lambda x, wt, b: F.conv2d(F.pad(x, (p, p, p, p), mode="reflect"), wt, b, s)
            if kind == "conv2d_bwd_input":
                self.x.requires_grad_(True)
            elif kind == "conv2d_bwd_weights":
                self.w.requires_grad_(True)
                self.b.requires_grad_(True)
            self.y = self.conv2d(self.x, self.w, self.b)
            self.dy = torch.randn(self.y.shape, generator=g)
        elif kind.startswith("conv_"):
            ci, co, h, w = spec["ci"], spec["co"], spec["h"], spec["w"]
            self.x = torch.randn(1, ci, h, w, generator=g)
            self.w = torch.randn(co, ci, 3, 3, generator=g) * math.sqrt(2.0 / (9 * ci))
            self.b = torch.randn(co, generator=g) * 0.1
            self.dy = torch.randn(1, co, h, w, generator=g)
            if kind == "conv_bwd_input":
                self.x.requires_grad_(True)
                self.y = F.conv2d(self.x, self.w, self.b, padding=1)
            elif kind == "conv_bwd_weights":
                self.w.requires_grad_(True)
                self.b.requires_grad_(True)
                self.y = F.conv2d(self.x, self.w, self.b, padding=1)
        elif kind in ("vgg_fwd", "vgg_fwdbwd"):
            self.net = features_to_relu5_1()
            self.x = torch.randn(1, 3, spec["h"], spec["w"], generator=g)
            if kind == "vgg_fwdbwd":
                self.x.requires_grad_(True)
        elif kind == "gatys_iter":
            self.loss = GatysLoss(spec["w"], spec["h"])
            self.x = (torch.randn(1, 3, spec["h"], spec["w"], generator=g) * 0.001).requires_grad_(True)
        elif kind == "resnet_gatys_iter":
            self.loss = ResNetSwagLoss(spec["w"], spec["h"])
            self.x = torchvision_input(synthetic_rgb(spec["w"], spec["h"], "content")).requires_grad_(True)
        elif kind == "johnson_fwd":
            self.net = TransformerNet().eval()
            self.x = torch.rand(1, 3, spec["h"], spec["w"], generator=g) * 255
        elif kind == "johnson_train_step":
            self.step = JohnsonTrainStep(spec["n"], spec["h"], spec["w"], g)
        elif kind == "bank_train_step":
            self.step = BankTrainStep(spec["n"], spec["h"], spec["w"], g)
        elif kind == "stylize":
            pass  # everything, including the targets, is inside the timed run
        else:
            raise ValueError(f"unknown case kind '{kind}'")

    def run(self):
        kind = self.spec["kind"]
        extra = {}
        t0 = time.perf_counter()
        if kind == "conv2d_fwd":
            with torch.no_grad():
                self.conv2d(self.x, self.w, self.b)
        elif kind == "conv2d_bwd_input":
            torch.autograd.grad(self.y, self.x, self.dy, retain_graph=True)
        elif kind == "conv2d_bwd_weights":
            torch.autograd.grad(self.y, [self.w, self.b], self.dy, retain_graph=True)
        elif kind == "conv_fwd":
            with torch.no_grad():
                F.conv2d(self.x, self.w, self.b, padding=1)
        elif kind == "conv_bwd_input":
            torch.autograd.grad(self.y, self.x, self.dy, retain_graph=True)
        elif kind == "conv_bwd_weights":
            torch.autograd.grad(self.y, [self.w, self.b], self.dy, retain_graph=True)
        elif kind == "vgg_fwd":
            with torch.no_grad():
                self.net(self.x)
        elif kind == "vgg_fwdbwd":
            self.x.grad = None
            loss = self.net(self.x).pow(2).mean()
            loss.backward()
        elif kind == "gatys_iter":
            self.x.grad = None
            loss = self.loss(self.x)
            loss.backward()
            extra["loss"] = float(loss)
        elif kind == "resnet_gatys_iter":
            self.x.grad = None
            loss = self.loss(self.x)
            loss.backward()
            extra["loss"] = float(loss)
        elif kind == "johnson_fwd":
            with torch.no_grad():
                self.net(self.x)
        elif kind in ("johnson_train_step", "bank_train_step"):
            extra["loss"] = self.step()
        elif kind == "stylize":
            extra = self.stylize()
        seconds = time.perf_counter() - t0
        extra["seconds"] = seconds
        return extra

    def stylize(self):
        """neural-style: targets, random init 0.001·N(0,1) in input space, LBFGS(max_iter=N) as neural-style-pt."""
        w, h, iters = self.spec["w"], self.spec["h"], self.spec["iterations"]
        loss_fn = GatysLoss(w, h)
        x = (torch.randn(1, 3, h, w) * 0.001).requires_grad_(True)
        opt = torch.optim.LBFGS([x], lr=1.0, max_iter=iters, tolerance_grad=-1, tolerance_change=-1, history_size=100)
        evals = [0]

        def closure():
            opt.zero_grad()
            loss = loss_fn(x)
            loss.backward()
            evals[0] += 1
            return loss

        t0 = time.perf_counter()
        opt.step(closure)
        optimise = time.perf_counter() - t0
        return {"evaluations": evals[0], "optimize_seconds": optimise, "per_iteration": optimise / max(1, evals[0])}


def main():
    cases = {}
    out = sys.stdout
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            op = req.get("op")
            if op == "quit":
                break
            if op == "hello":
                ans = {"ok": True, "torch": torch.__version__, "torchvision": torchvision.__version__,
                       "threads": torch.get_num_threads(), "peak_reset": reset_peak()}
            elif op == "begin":
                key = json.dumps(req["case"], sort_keys=True)
                cases.clear()  # one case at a time: free the previous case's tensors before measuring memory
                import gc
                gc.collect()
                reset_peak()
                cases[key] = Case(req["case"])
                ans = {"ok": True}
            elif op == "run":
                key = json.dumps(req["case"], sort_keys=True)
                if key not in cases:
                    cases.clear()
                    cases[key] = Case(req["case"])
                ans = cases[key].run()
                ans["ok"] = True
                ans["peak_kb"] = peak_kb()
            else:
                ans = {"ok": False, "error": f"unknown op '{op}'"}
        except Exception as e:  # the harness shows the message and goes on without the peer for this case
            ans = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        out.write(json.dumps(ans) + "\n")
        out.flush()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--export-johnson":
        export_johnson(sys.argv[2])
    else:
        main()
