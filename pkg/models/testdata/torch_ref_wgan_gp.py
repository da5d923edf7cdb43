"""Reference values for dltrain's WGAN-GP critic loss, from PyTorch 1.13.

Run with PyTorch 1.13 (Debian's python3-torch):
    /usr/bin/python3 pkg/models/testdata/torch_ref_wgan_gp.py > pkg/models/testdata/torch_ref_wgan_gp.json

For each case a critic of nn.Linear layers (leaky_relu / relu between
them, an optional nn.Flatten first) gets deterministic weights (seq()
with a phase per parameter, written in dltrain's layout: W as [in, out]),
real and fake samples and a fixed ε per sample, and the script writes
the interpolates x̂ = ε·real + (1−ε)·fake, the per-sample penalty
(‖∇ₓD(x̂)‖₂ − 1)² from torch.autograd.grad(create_graph=True), the critic
loss mean D(fake) − mean D(real) + λ·mean penalty, and its gradient with
respect to every weight, all in float64.
"""
import json
import math

import torch

torch.set_default_dtype(torch.float64)


def seq(n, phase, step, scale=1.0):
    return torch.tensor([scale * math.sin(phase + step * i) for i in range(n)])


def flat(t):
    return [float(v) for v in t.detach().reshape(-1)]


def case(name, shape, layers, batch, lam):
    """layers: [(units, activation, alpha)]; shape: one sample's shape."""
    n_in = 1
    for d in shape:
        n_in *= d
    mods = [torch.nn.Flatten()] if len(shape) > 1 else []
    acts = []
    f = n_in
    for units, act, alpha in layers:
        mods.append(torch.nn.Linear(f, units))
        if act == "leaky_relu":
            mods.append(torch.nn.LeakyReLU(alpha))
        elif act == "relu":
            mods.append(torch.nn.ReLU())
        f = units
    critic = torch.nn.Sequential(*mods)
    params = {}
    with torch.no_grad():
        k = 0
        for m in critic:
            if isinstance(m, torch.nn.Linear):
                k += 1
                m.weight.copy_(seq(m.weight.numel(), 0.3 * k, 0.37 + 0.01 * k, 0.6).reshape(m.weight.shape))
                m.bias.copy_(seq(m.bias.numel(), 0.7 * k, 0.53, 0.2))
                params["dense%d/W" % k] = flat(m.weight.t())
                params["dense%d/b" % k] = flat(m.bias)
    real = seq(batch * n_in, 0.1, 0.29).reshape(batch, *shape)
    fake = seq(batch * n_in, 1.3, 0.41, 0.8).reshape(batch, *shape)
    eps = torch.tensor([0.15 + 0.7 * i / max(1, batch - 1) for i in range(batch)])
    e = eps.reshape(batch, *([1] * len(shape)))
    xh = (e * real + (1 - e) * fake).requires_grad_(True)
    d = critic(xh)
    g, = torch.autograd.grad(d.sum(), xh, create_graph=True)
    pen = (g.reshape(batch, -1).norm(2, dim=1) - 1) ** 2
    loss = critic(fake).mean() - critic(real).mean() + lam * pen.mean()
    loss.backward()
    grads = {}
    k = 0
    for m in critic:
        if isinstance(m, torch.nn.Linear):
            k += 1
            grads["dense%d/W" % k] = flat(m.weight.grad.t())
            grads["dense%d/b" % k] = flat(m.bias.grad)
    return {
        "name": name, "shape": list(shape), "batch": batch, "gp_weight": lam,
        "layers": [{"units": u, "activation": a, "alpha": al} for u, a, al in layers],
        "real": flat(real), "fake": flat(fake), "eps": flat(eps), "interpolates": flat(xh),
        "input_grad": flat(g), "penalty": flat(pen), "loss": float(loss),
        "params": params, "grads": grads,
    }


print(json.dumps({"torch": torch.__version__, "cases": [
    case("mlp", [6], [(5, "leaky_relu", 0.2), (4, "relu", 0.0), (1, "none", 0.0)], 3, 10.0),
    case("flatten", [2, 3], [(5, "leaky_relu", 0.2), (1, "none", 0.0)], 4, 2.5),
]}, indent=1))
