#!/usr/bin/env python3
"""PyTorch 1.13 counterpart of configs/digits-transformer.yaml: the same
architecture, data, split and budget, for comparing test accuracy.

Usage (Debian's PyTorch, /usr/bin/python3):
    bin/dltrain train --config configs/digits-transformer.yaml --out runs
    /usr/bin/python3 bench/digits_transformer_torch.py RUN_DIR [--seeds 1 2 3]

RUN_DIR is the dltrain run directory: its assignment.csv gives each
sample's split and source line (so both train, select and test on the same
rows). The data is the
shipped pkg/data/builtin/digits.csv.gz, scaled as dltrain does (standard
scaling fitted on the training rows, population standard deviation, 1 for
a constant feature). Model: each image as 8 rows of 8 pixels, Linear(8, 32),
sinusoidal positions, nn.TransformerEncoder of 2 layers (4 heads, ff 64,
dropout 0.1, norm_first, relu), mean over the rows, Linear(32, 10). Budget:
Adam lr 0.003, batch 32 (the last partial batch trained on), 40 epochs,
shuffled each epoch; the epoch with the best validation accuracy (first
best) is evaluated on the test rows. Prints one line per seed and the mean.
"""
import argparse
import csv
import gzip
import math
import os

import torch
import torch.nn as nn


def load(run_dir):
    here = os.path.dirname(os.path.abspath(__file__))
    with gzip.open(os.path.join(here, "..", "pkg", "data", "builtin", "digits.csv.gz"), "rt") as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    label = header.index("label")
    x = torch.tensor([[float(v) for i, v in enumerate(r) if i != label] for r in rows], dtype=torch.float32)
    y = torch.tensor([int(r[label]) for r in rows])
    split = {}
    with open(os.path.join(run_dir, "assignment.csv")) as f:
        for r in csv.DictReader(f):
            # line is the source line of the sample; line 1 is the header
            split.setdefault(r["split"], []).append(int(r["line"]) - 2)
    idx = {k: torch.tensor(v) for k, v in split.items()}
    train = x[idx["train"]].double()
    mean = train.mean(0)
    sd = ((train - mean) ** 2).mean(0).sqrt()
    sd[sd == 0] = 1
    x = ((x.double() - mean) / sd).float().reshape(-1, 8, 8)
    return {k: (x[v], y[v]) for k, v in idx.items()}


def sinusoids(t, d):
    pe = torch.zeros(t, d)
    for pos in range(t):
        for j in range(d):
            angle = pos / 10000 ** ((j - j % 2) / d)
            pe[pos, j] = math.sin(angle) if j % 2 == 0 else math.cos(angle)
    return pe


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 32)
        self.register_buffer("pe", sinusoids(8, 32))
        layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.1, batch_first=True, norm_first=True)
        self.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.out = nn.Linear(32, 10)

    def forward(self, x):
        return self.out(self.enc(self.proj(x) + self.pe).mean(1))


def accuracy(m, x, y):
    m.eval()
    with torch.no_grad():
        return (m(x).argmax(1) == y).float().mean().item()


def run(data, seed):
    torch.manual_seed(seed)
    m = Classifier()
    opt = torch.optim.Adam(m.parameters(), lr=0.003)
    (xt, yt), (xv, yv), (xs, ys) = data["train"], data["val"], data["test"]
    best, best_test = -1.0, 0.0
    for _ in range(40):
        m.train()
        perm = torch.randperm(len(xt))
        for i in range(0, len(xt), 32):
            b = perm[i:i + 32]
            opt.zero_grad()
            nn.functional.cross_entropy(m(xt[b]), yt[b]).backward()
            opt.step()
        v = accuracy(m, xv, yv)
        if v > best:
            best, best_test = v, accuracy(m, xs, ys)
    return best, best_test


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    data = load(a.run_dir)
    accs = []
    for s in a.seeds:
        val, test = run(data, s)
        accs.append(test)
        print(f"seed {s}: best val accuracy {val:.4f}, test accuracy {test:.4f} on {len(data['test'][1])} samples")
    print(f"mean test accuracy {sum(accs) / len(accs):.4f} over {len(accs)} seeds")


if __name__ == "__main__":
    main()
