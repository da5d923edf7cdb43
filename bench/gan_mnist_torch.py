#!/usr/bin/env python3
"""The PyTorch side of the GAN acceptance experiment (issue 14): an MLP GAN on 8,000 MNIST digits.

Exactly the architecture and budget of the issue's config: latent 64; generator dense 256
(leaky ReLU 0.2), dense 784 (tanh); discriminator dense 256 (leaky ReLU 0.2), dense 1 (a logit);
the non-saturating BCE losses; Adam (lr 2e-4, beta1 0.5, beta2 0.999) for each network; batch 64;
one discriminator step per generator step; 30 epochs; pixels scaled from 0-255 to [-1, 1].

Per step (as PyTorch's DCGAN example): the discriminator is trained on a real batch (target 1)
and on a generated batch (target 0), its loss the sum of both BCEs; then the generator on the
same generated batch, its loss the BCE of D(G(z)) against 1. Layers keep PyTorch's default
initialisation. The data are read from the IDX files written by bench/gan/prepare_mnist8k.sh.

Writes, under --out:
  torch_samples.npy   N generated samples in pixel units (0-255), float32 [N, 784]
  torch_samples.png   the first 100 as a 10 x 10 grid
  torch_gan.json      settings, per-epoch losses and D(real)/D(fake) means, training time

Needs Debian's PyTorch (apt-get install -y python3-torch; run with /usr/bin/python3) and Pillow.
Usage: /usr/bin/python3 bench/gan_mnist_torch.py [--data bench/gan/data] [--out bench/gan/out]
       [--epochs 30] [--n 1000] [--seed 1] [--threads 1]
Then score the samples with dltrain's judge:  bin/dltrain eval --judge RUN --samples OUT/torch_samples.npy
"""
import argparse
import gzip
import json
import os
import struct
import time

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

LATENT = 64


def read_idx(path):
    """An IDX file (gzip or raw) as a numpy array of its shape."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        b = f.read()
    zero, kind, rank = struct.unpack(">HBB", b[:4])
    if zero != 0 or kind != 0x08:
        raise SystemExit(f"{path}: not an IDX file of unsigned bytes (magic {b[:4].hex()})")
    dims = struct.unpack(">" + "I" * rank, b[4:4 + 4 * rank])
    data = np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * rank)
    if data.size != int(np.prod(dims)):
        raise SystemExit(f"{path}: holds {data.size} values, its header says {dims}")
    return data.reshape(dims)


def generator():
    return nn.Sequential(nn.Linear(LATENT, 256), nn.LeakyReLU(0.2), nn.Linear(256, 784), nn.Tanh())


def discriminator():
    return nn.Sequential(nn.Linear(784, 256), nn.LeakyReLU(0.2), nn.Linear(256, 1))


def train(x, epochs, batch, seed, log):
    """Trains the GAN on x ([N, 784] in [-1, 1]); returns the generator and the epoch rows."""
    torch.manual_seed(seed)
    g, d = generator(), discriminator()
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    order = torch.Generator().manual_seed(seed)
    rows = []
    for epoch in range(1, epochs + 1):
        perm = torch.randperm(x.shape[0], generator=order)
        sums = np.zeros(4)
        steps = 0
        for lo in range(0, x.shape[0], batch):
            real = x[perm[lo:lo + batch]]
            b = real.shape[0]
            ones, zeros = torch.ones(b, 1), torch.zeros(b, 1)
            fake = g(torch.randn(b, LATENT))
            # Discriminator: real -> 1, generated -> 0 (the generator's graph cut off).
            opt_d.zero_grad()
            d_real, d_fake = d(real), d(fake.detach())
            loss_d = bce(d_real, ones) + bce(d_fake, zeros)
            loss_d.backward()
            opt_d.step()
            # Generator, non-saturating: generated -> 1 through the updated discriminator.
            opt_g.zero_grad()
            loss_g = bce(d(fake), ones)
            loss_g.backward()
            opt_g.step()
            sums += [loss_d.item(), loss_g.item(), torch.sigmoid(d_real).mean().item(),
                     torch.sigmoid(d_fake).mean().item()]
            steps += 1
        m = sums / steps
        row = {"epoch": epoch, "d_loss": m[0], "g_loss": m[1], "d_real": m[2], "d_fake": m[3]}
        rows.append(row)
        log(f"epoch {epoch:2d}  d_loss {m[0]:.4f}  g_loss {m[1]:.4f}  D(real) {m[2]:.3f}  D(fake) {m[3]:.3f}")
    return g, rows


def grid_png(samples, path, side=10):
    """The first side*side samples (0-255, [N, 784]) as one grayscale PNG, 2-pixel gaps."""
    cell = 28 + 2
    img = np.zeros((side * cell + 2, side * cell + 2), dtype=np.uint8)
    for i in range(min(side * side, samples.shape[0])):
        r, c = divmod(i, side)
        img[2 + r * cell:2 + r * cell + 28, 2 + c * cell:2 + c * cell + 28] = \
            np.clip(np.rint(samples[i]), 0, 255).astype(np.uint8).reshape(28, 28)
    Image.fromarray(img, mode="L").save(path)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    p.add_argument("--data", default=os.path.join(here, "gan", "data"), help="folder of prepare_mnist8k.sh's files")
    p.add_argument("--out", default=os.path.join(here, "gan", "out"), help="folder to write the samples to")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--n", type=int, default=1000, help="samples to write")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)

    images = read_idx(os.path.join(a.data, "train8k-images-idx3-ubyte.gz"))
    x = torch.from_numpy(images.reshape(images.shape[0], 784).astype(np.float32) / 127.5 - 1.0)
    print(f"data: {x.shape[0]} digits from {a.data}, scaled to [{x.min():.0f}, {x.max():.0f}]")

    start = time.perf_counter()
    g, rows = train(x, a.epochs, a.batch, a.seed, print)
    seconds = time.perf_counter() - start

    torch.manual_seed(a.seed + 1)  # the sampling noise: its own seed, after training
    with torch.no_grad():
        s = g(torch.randn(a.n, LATENT))
    samples = ((s + 1.0) * 127.5).clamp(0, 255).numpy().astype(np.float32)
    os.makedirs(a.out, exist_ok=True)
    np.save(os.path.join(a.out, "torch_samples.npy"), samples)
    grid_png(samples, os.path.join(a.out, "torch_samples.png"))
    summary = {
        "torch": torch.__version__, "threads": a.threads, "seed": a.seed, "digits": int(x.shape[0]),
        "epochs": a.epochs, "batch": a.batch, "latent": LATENT, "n_samples": a.n,
        "train_seconds": round(seconds, 2), "mean_pixel": float(samples.mean()), "epochs_log": rows,
    }
    with open(os.path.join(a.out, "torch_gan.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(f"trained {a.epochs} epochs in {seconds:.1f} s ({a.threads} thread(s)); "
          f"wrote {a.n} samples (mean pixel {samples.mean():.1f}) to {a.out}/torch_samples.npy and .png")


if __name__ == "__main__":
    main()
