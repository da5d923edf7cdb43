#!/usr/bin/env python3
"""The PyTorch side of the conditional GAN comparison: configs/mnist-cgan.yaml in PyTorch 1.13.

The architecture and budget of configs/mnist-cgan.yaml (bench/gan_mnist_torch.py's MLP GAN with
the labels, Mirza & Osindero 2014): each network has its own nn.Embedding(10, 10) of the class
(PyTorch's N(0, 1) initialisation), concatenated to the generator's 64 noise values and to the
discriminator's 784 pixels; generator dense 256 (leaky ReLU 0.2), dense 784 (tanh);
discriminator dense 256 (leaky ReLU 0.2), dense 1 (a logit); non-saturating BCE; Adam (lr 2e-4,
beta1 0.5) for each network; batch 64; one discriminator step per generator step; 30 epochs;
pixels scaled from 0-255 to [-1, 1]. The classes of generated samples are drawn uniformly.

Per step, as dltrain's two phases (pkg/train/loop.go, pkg/models/gan.go): the discriminator on
the real batch with its labels (target 1) and on a generated batch G(z, c), c drawn uniformly
(target 0), its loss the sum of both mean BCEs; then the generator through the updated
discriminator on a NEW generated batch, new noise z' and new classes c' (dltrain's generator
phase runs its own forward, which draws its own). --g-step reuse trains the generator on the
discriminator's batch instead (z and c reused, as PyTorch's DCGAN example and
bench/gan_mnist_torch.py do): the same objective in expectation, kept for comparison.
--init dltrain_he_normal draws the nn.Linear weights as dltrain's default model.init
(N(0, 2/fan_in)) with zero biases; the default keeps PyTorch's (U(+-1/sqrt(fan_in)) for both,
what dltrain's model.init and model.bias_init torch_linear draw). The label embeddings are
N(0, 1) either way, as dltrain's. Differences that cannot be removed: the random streams (data
order, noise, classes, initial values) are PyTorch's, not dltrain's; the same distributions.

Writes, under --out, for each class c: torch_cgan_class{c}.npy, --n samples of class c in pixel
units (float32 [n, 784]); torch_cgan.png (one row of 10 per class); torch_cgan.json (settings,
per-epoch losses, training time). Score each file with dltrain's judge: the share of class c's
samples the judge puts in class c is that class's accuracy (bench/gan/cgan_compare.sh).
Usage: /usr/bin/python3 bench/gan/cgan_mnist_torch.py --data DIR --out DIR [--epochs 30] [--n 100]
       [--seed 1] [--threads 1] [--g-step fresh|reuse] [--init torch|dltrain_he_normal]
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from gan_mnist_torch import read_idx  # noqa: E402 (bench/, the unconditional GAN's reader)

LATENT, CLASSES, LABEL_DIM = 64, 10, 10


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.labels = nn.Embedding(CLASSES, LABEL_DIM)
        self.net = nn.Sequential(nn.Linear(LATENT + LABEL_DIM, 256), nn.LeakyReLU(0.2), nn.Linear(256, 784), nn.Tanh())

    def forward(self, z, y):
        return self.net(torch.cat([z, self.labels(y)], 1))


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.labels = nn.Embedding(CLASSES, LABEL_DIM)
        self.net = nn.Sequential(nn.Linear(784 + LABEL_DIM, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1))

    def forward(self, x, y):
        return self.net(torch.cat([x, self.labels(y)], 1))


def he_normal_(module):
    """dltrain's default model.init for every nn.Linear of module: weights N(0, 2/fan_in), biases 0."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, (2.0 / m.in_features) ** 0.5)
            nn.init.zeros_(m.bias)


def train(x, labels, epochs, batch, seed, log, g_step="fresh", init="torch"):
    torch.manual_seed(seed)
    g, d = Generator(), Discriminator()
    if init == "dltrain_he_normal":
        he_normal_(g)
        he_normal_(d)
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    order = torch.Generator().manual_seed(seed)
    rows = []
    for epoch in range(1, epochs + 1):
        perm = torch.randperm(x.shape[0], generator=order)
        sums, steps = np.zeros(4), 0
        for lo in range(0, x.shape[0], batch):
            idx = perm[lo:lo + batch]
            real, y = x[idx], labels[idx]
            b = real.shape[0]
            ones, zeros = torch.ones(b, 1), torch.zeros(b, 1)
            c = torch.randint(0, CLASSES, (b,))
            fake = g(torch.randn(b, LATENT), c)
            opt_d.zero_grad()
            d_real, d_fake = d(real, y), d(fake.detach(), c)
            loss_d = bce(d_real, ones) + bce(d_fake, zeros)
            loss_d.backward()
            opt_d.step()
            opt_g.zero_grad()
            if g_step == "fresh":  # dltrain's generator phase: its own noise and classes
                c = torch.randint(0, CLASSES, (b,))
                fake = g(torch.randn(b, LATENT), c)
            loss_g = bce(d(fake, c), ones)
            loss_g.backward()
            opt_g.step()
            sums += [loss_d.item(), loss_g.item(), torch.sigmoid(d_real).mean().item(), torch.sigmoid(d_fake).mean().item()]
            steps += 1
        m = sums / steps
        rows.append({"epoch": epoch, "d_loss": m[0], "g_loss": m[1], "d_real": m[2], "d_fake": m[3]})
        log(f"epoch {epoch:2d}  d_loss {m[0]:.4f}  g_loss {m[1]:.4f}  D(real) {m[2]:.3f}  D(fake) {m[3]:.3f}")
    return g, rows


def grid_png(per_class, path):
    """One row per class of the first 10 samples of each (0-255, [n, 784]), 2-pixel gaps."""
    cell = 30
    img = np.zeros((CLASSES * cell + 2, 10 * cell + 2), dtype=np.uint8)
    for r, s in enumerate(per_class):
        for c in range(min(10, s.shape[0])):
            img[2 + r * cell:2 + r * cell + 28, 2 + c * cell:2 + c * cell + 28] = \
                np.clip(np.rint(s[c]), 0, 255).astype(np.uint8).reshape(28, 28)
    Image.fromarray(img, mode="L").save(path)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="folder of prepare_mnist8k.sh's files")
    p.add_argument("--out", required=True)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--n", type=int, default=100, help="samples per class")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--g-step", choices=("fresh", "reuse"), default="fresh",
                   help="generator step on new noise and classes (dltrain's) or on the discriminator's batch")
    p.add_argument("--init", choices=("torch", "dltrain_he_normal"), default="torch",
                   help="nn.Linear init: PyTorch's default, or dltrain's default he_normal with zero biases")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    images = read_idx(os.path.join(a.data, "train8k-images-idx3-ubyte.gz"))
    labels = torch.from_numpy(read_idx(os.path.join(a.data, "train8k-labels-idx1-ubyte.gz")).astype(np.int64))
    x = torch.from_numpy(images.reshape(images.shape[0], 784).astype(np.float32) / 127.5 - 1.0)
    print(f"data: {x.shape[0]} digits and their labels from {a.data}")
    start = time.perf_counter()
    g, rows = train(x, labels, a.epochs, a.batch, a.seed, print, a.g_step, a.init)
    seconds = time.perf_counter() - start
    torch.manual_seed(a.seed + 1)  # the sampling noise: its own seed, after training
    os.makedirs(a.out, exist_ok=True)
    per_class = []
    g.eval()  # no dropout or batch norm here: as dltrain's evaluation-mode generator either way
    with torch.no_grad():
        z = torch.randn(a.n, LATENT)  # the same noise for every class
        for c in range(CLASSES):
            s = ((g(z, torch.full((a.n,), c)) + 1.0) * 127.5).clamp(0, 255).numpy().astype(np.float32)
            np.save(os.path.join(a.out, f"torch_cgan_class{c}.npy"), s)
            per_class.append(s)
    grid_png(per_class, os.path.join(a.out, "torch_cgan.png"))
    with open(os.path.join(a.out, "torch_cgan.json"), "w") as f:
        json.dump({"torch": torch.__version__, "threads": a.threads, "seed": a.seed, "digits": int(x.shape[0]),
                   "epochs": a.epochs, "batch": a.batch, "g_step": a.g_step, "init": a.init, "latent": LATENT, "label_dim": LABEL_DIM,
                   "samples_per_class": a.n, "train_seconds": round(seconds, 2), "epochs_log": rows}, f, indent=1)
    print(f"trained {a.epochs} epochs in {seconds:.1f} s; wrote {a.n} samples per class to {a.out}")


if __name__ == "__main__":
    main()
