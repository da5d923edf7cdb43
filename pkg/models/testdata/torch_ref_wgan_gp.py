"""Reference values for dltrain's WGAN-GP critic loss, from PyTorch 1.13.

Run with PyTorch 1.13 (Debian's python3-torch):
    /usr/bin/python3 pkg/models/testdata/torch_ref_wgan_gp.py > pkg/models/testdata/torch_ref_wgan_gp.json

For each case a critic of nn.Linear and nn.Conv2d layers (with leaky_relu,
relu, tanh or sigmoid; max, average and global average pooling;
nn.Flatten) gets deterministic weights (seq() with a phase per
parameter, written in dltrain's layout: a dense W as [in, out]),
real and fake samples and a fixed ε per sample, and the script writes
the interpolates x̂ = ε·real + (1−ε)·fake, the per-sample penalty
(‖∇ₓD(x̂)‖₂ − 1)² from torch.autograd.grad(create_graph=True), the critic
loss mean D(fake) − mean D(real) + λ·mean penalty, and its gradient with
respect to every weight, all in float64. The conditional cases add a
label embedding (see case()).
"""
import json
import math

import torch

torch.set_default_dtype(torch.float64)


def seq(n, phase, step, scale=1.0):
    return torch.tensor([scale * math.sin(phase + step * i) for i in range(n)])


def flat(t):
    return [float(v) for v in t.detach().reshape(-1)]


class GlobalAvgPool(torch.nn.Module):
    """dltrain's global_avgpool: (batch, C, H, W) -> (batch, C)."""

    def forward(self, x):
        return x.mean(dim=(2, 3))


def pool_out(m, f):
    with torch.no_grad():
        return list(m(torch.zeros(1, *f)).shape[1:])


def with_labels(x, e):
    """dltrain's concat_channels: e [batch, dim] appended to x as dim more
    features (flat x) or constant channels (x [batch, C, positions...])."""
    if x.dim() == 2:
        return torch.cat([x, e], 1)
    e = e.reshape(*e.shape, *([1] * (x.dim() - 2)))
    return torch.cat([x, e.expand(-1, -1, *x.shape[2:])], 1)


def case(name, shape, layers, batch, lam, classes=0, label_dim=0):
    """layers: dltrain layer dicts (dense, conv2d, flatten, relu,
    leaky_relu, tanh, sigmoid, maxpool2d, avgpool2d, global_avgpool) in
    order; shape: one sample's shape. With classes, the critic is a
    conditional one: an nn.Embedding(classes, label_dim) of each sample's
    label appended to the sample (with_labels); the real samples are
    scored with their labels, the fake ones with theirs, the interpolates
    with the real ones', and the penalty is on the gradient with respect
    to the interpolates only."""
    mods, keys = [], []
    counts = {}
    f, sp = list(shape), None
    if classes:
        f[0] += label_dim
    for l in layers:
        t = l["type"]
        counts[t] = counts.get(t, 0) + 1
        act = l.get("activation", "none")
        if t == "dense":
            mods.append(torch.nn.Linear(f[-1], l["units"]))
            keys.append(("dense%d" % counts[t], True))
            f = [l["units"]]
        elif t == "conv2d":
            conv = torch.nn.Conv2d(f[0], l["filters"], l["kernel"], stride=l.get("stride", 1), padding=l.get("padding", 0))
            mods.append(conv)
            keys.append(("conv2d%d" % counts[t], False))
            with torch.no_grad():
                f = list(conv(torch.zeros(1, *f)).shape[1:])
        elif t in ("maxpool2d", "avgpool2d"):
            size, stride, pad = l["size"], l.get("stride", l["size"]), l.get("padding", 0)
            if t == "maxpool2d":
                m = torch.nn.MaxPool2d(size, stride=stride, padding=pad)
            else:
                m = torch.nn.AvgPool2d(size, stride=stride, padding=pad, count_include_pad=l.get("include_pad", True))
            mods.append(m)
            keys.append((None, None))
            f = pool_out(m, f)
        elif t == "global_avgpool":
            mods.append(GlobalAvgPool())
            keys.append((None, None))
            f = [f[0]]
        elif t == "flatten":
            mods.append(torch.nn.Flatten())
            keys.append((None, None))
            n = 1
            for d in f:
                n *= d
            f = [n]
        if t == "relu" or act == "relu":
            mods.append(torch.nn.ReLU())
            keys.append((None, None))
        if t == "leaky_relu" or act == "leaky_relu":
            mods.append(torch.nn.LeakyReLU(l["alpha"]))
            keys.append((None, None))
        if t == "tanh" or act == "tanh":
            mods.append(torch.nn.Tanh())
            keys.append((None, None))
        if t == "sigmoid" or act == "sigmoid":
            mods.append(torch.nn.Sigmoid())
            keys.append((None, None))
    critic = torch.nn.Sequential(*mods)
    params = {}
    with torch.no_grad():
        k = 0
        for m, (key, linear) in zip(critic, keys):
            if key is None:
                continue
            k += 1
            m.weight.copy_(seq(m.weight.numel(), 0.3 * k, 0.37 + 0.01 * k, 0.6).reshape(m.weight.shape))
            m.bias.copy_(seq(m.bias.numel(), 0.7 * k, 0.53, 0.2))
            params[key + "/W"] = flat(m.weight.t() if linear else m.weight)
            params[key + "/b"] = flat(m.bias)
    n_in = 1
    for d in shape:
        n_in *= d
    real = seq(batch * n_in, 0.1, 0.29).reshape(batch, *shape)
    fake = seq(batch * n_in, 1.3, 0.41, 0.8).reshape(batch, *shape)
    eps = torch.tensor([0.15 + 0.7 * i / max(1, batch - 1) for i in range(batch)])
    e = eps.reshape(batch, *([1] * len(shape)))
    xh = (e * real + (1 - e) * fake).requires_grad_(True)
    score = {"real": critic, "fake": critic, "xh": critic}
    out = {}
    if classes:
        emb = torch.nn.Embedding(classes, label_dim)
        with torch.no_grad():
            emb.weight.copy_(seq(classes * label_dim, 2.1, 0.61, 0.9).reshape(classes, label_dim))
        params["label_embedding/weight"] = flat(emb.weight)
        real_labels = torch.tensor([(3 * i + 1) % classes for i in range(batch)])
        fake_labels = torch.tensor([(5 * i + 2) % classes for i in range(batch)])
        out.update(real_labels=[int(v) for v in real_labels], fake_labels=[int(v) for v in fake_labels],
                   classes=classes, label_dim=label_dim)
        score = {k: (lambda x, y=y: critic(with_labels(x, emb(y))))
                 for k, y in (("real", real_labels), ("fake", fake_labels), ("xh", real_labels))}
    d = score["xh"](xh)
    g, = torch.autograd.grad(d.sum(), xh, create_graph=True)
    pen = (g.reshape(batch, -1).norm(2, dim=1) - 1) ** 2
    if classes:
        # How much of the embedding's gradient is the penalty's: none
        # through piecewise-linear slopes, some through tanh or sigmoid.
        pg, = torch.autograd.grad(pen.mean(), emb.weight, retain_graph=True, allow_unused=True)
        out["penalty_embedding_grad_norm"] = 0.0 if pg is None else float(pg.norm())
    loss = score["fake"](fake).mean() - score["real"](real).mean() + lam * pen.mean()
    loss.backward()
    grads = {}
    for m, (key, linear) in zip(critic, keys):
        if key is not None:
            grads[key + "/W"] = flat(m.weight.grad.t() if linear else m.weight.grad)
            grads[key + "/b"] = flat(m.bias.grad)
    if classes:
        grads["label_embedding/weight"] = flat(emb.weight.grad)
    out.update({
        "name": name, "shape": list(shape), "batch": batch, "gp_weight": lam, "layers": layers,
        "real": flat(real), "fake": flat(fake), "eps": flat(eps), "interpolates": flat(xh),
        "input_grad": flat(g), "penalty": flat(pen), "loss": float(loss),
        "params": params, "grads": grads,
    })
    return out


def dense(units, activation="none", alpha=0.0):
    return {"type": "dense", "units": units, "activation": activation, "alpha": alpha}


print(json.dumps({"torch": torch.__version__, "cases": [
    case("mlp", [6], [dense(5, "leaky_relu", 0.2), dense(4, "relu"), dense(1)], 3, 10.0),
    case("flatten", [2, 3], [{"type": "flatten"}, dense(5, "leaky_relu", 0.2), dense(1)], 4, 2.5),
    case("conv", [2, 8, 8], [
        {"type": "conv2d", "filters": 3, "kernel": 3, "stride": 2, "padding": 1, "activation": "leaky_relu", "alpha": 0.2},
        {"type": "conv2d", "filters": 2, "kernel": 2, "stride": 1, "padding": 0, "activation": "none"},
        {"type": "relu"}, {"type": "flatten"}, dense(1)], 3, 10.0),
    case("mlp tanh sigmoid", [6], [dense(5, "tanh"), dense(4, "sigmoid"), dense(1)], 3, 10.0),
    case("activation layers", [6], [dense(5), {"type": "sigmoid"}, dense(4), {"type": "tanh"}, dense(1)], 3, 10.0),
    case("conv pool", [2, 8, 8], [
        {"type": "conv2d", "filters": 3, "kernel": 3, "stride": 1, "padding": 1, "activation": "tanh"},
        {"type": "maxpool2d", "size": 2},
        {"type": "conv2d", "filters": 4, "kernel": 3, "stride": 1, "padding": 1, "activation": "leaky_relu", "alpha": 0.2},
        {"type": "avgpool2d", "size": 2},
        {"type": "flatten"}, dense(1)], 3, 10.0),
    case("conv pool padded", [2, 7, 7], [
        {"type": "conv2d", "filters": 3, "kernel": 2, "stride": 1, "padding": 0, "activation": "sigmoid"},
        {"type": "maxpool2d", "size": 3, "stride": 2, "padding": 1},
        {"type": "avgpool2d", "size": 3, "stride": 1, "padding": 1, "include_pad": False},
        {"type": "conv2d", "filters": 2, "kernel": 2, "stride": 1, "padding": 0, "activation": "relu"},
        {"type": "global_avgpool"}, dense(1)], 4, 5.0),
    case("conditional mlp", [6], [dense(5, "leaky_relu", 0.2), dense(4, "relu"), dense(1)], 4, 10.0, classes=3, label_dim=2),
    case("conditional mlp tanh", [6], [dense(5, "tanh"), dense(4, "sigmoid"), dense(1)], 4, 10.0, classes=3, label_dim=2),
    case("conditional flatten", [2, 3], [{"type": "flatten"}, dense(5, "tanh"), dense(1)], 4, 2.5, classes=4, label_dim=3),
    case("conditional conv", [1, 8, 8], [
        {"type": "conv2d", "filters": 3, "kernel": 4, "stride": 2, "padding": 1, "activation": "leaky_relu", "alpha": 0.2},
        {"type": "conv2d", "filters": 2, "kernel": 3, "stride": 2, "padding": 1, "activation": "leaky_relu", "alpha": 0.2},
        {"type": "flatten"}, dense(1)], 3, 10.0, classes=10, label_dim=10),
    case("conditional conv sigmoid pool", [2, 6, 6], [
        {"type": "conv2d", "filters": 3, "kernel": 3, "stride": 1, "padding": 1, "activation": "sigmoid"},
        {"type": "maxpool2d", "size": 2},
        {"type": "conv2d", "filters": 2, "kernel": 2, "stride": 1, "padding": 0, "activation": "tanh"},
        {"type": "flatten"}, dense(1)], 4, 10.0, classes=3, label_dim=2),
]}, indent=1))
