#!/usr/bin/env python3
"""PyTorch 1.13 at the architecture, data, split and budget of configs/sunspots-lstm.yaml
and configs/sunspots-gru.yaml, to compare their test MSE with dltrain's.

Usage: /usr/bin/python3 bench/sunspots_lstm_torch.py [--cell lstm|gru] [--seeds N] [--epochs E] [--lr LR]
(--lr defaults to the config's: 0.02 for the LSTM, 0.01 for the GRU)

Data as dltrain prepares it (pkg/data/series.go): the built-in yearly sunspots 1700-2008
(pkg/data/builtin/sunspots.csv), windows of the 12 years before each target year
(horizon 1, stride 1), a window in the part its target year lies in: train up to 1916,
val 1917-1962, test 1963-2008 (as `dltrain prepare` reports); inputs standardized with the
mean and population standard deviation of the training years, targets raw. Model: one
LSTM (or GRU) layer of 32 units over the 12 steps, its last state into Linear(32, 1);
weight_hh orthogonal as dltrain's default, everything else PyTorch's default init. Adam
(the config's lr), batch 32, shuffled every epoch, MSE, 200 epochs; the weights of the epoch with
the lowest validation MSE are evaluated on the test windows. Prints each seed's numbers and
the mean and standard deviation over seeds.
"""
import argparse
import csv
import os
import statistics

import torch
from torch import nn

LOOKBACK, TRAIN_END, VAL_END = 12, 1916, 1962


def windows():
    path = os.path.join(os.path.dirname(__file__), "..", "pkg", "data", "builtin", "sunspots.csv")
    rows = [(int(r["YEAR"]), float(r["SUNACTIVITY"])) for r in csv.DictReader(open(path))]
    years = [y for y, _ in rows]
    vals = [v for _, v in rows]
    train_vals = [v for y, v in rows if y <= TRAIN_END]
    mean = sum(train_vals) / len(train_vals)
    sd = (sum((v - mean) ** 2 for v in train_vals) / len(train_vals)) ** 0.5
    scaled = [(v - mean) / sd for v in vals]
    parts = {"train": ([], []), "val": ([], []), "test": ([], [])}
    for t in range(LOOKBACK, len(vals)):
        part = "train" if years[t] <= TRAIN_END else "val" if years[t] <= VAL_END else "test"
        parts[part][0].append([[x] for x in scaled[t - LOOKBACK:t]])
        parts[part][1].append([vals[t]])
    return {k: (torch.tensor(x), torch.tensor(y)) for k, (x, y) in parts.items()}, mean, sd


class Forecaster(nn.Module):
    def __init__(self, cell, units):
        super().__init__()
        self.rnn = (nn.LSTM if cell == "lstm" else nn.GRU)(1, units, batch_first=True)
        nn.init.orthogonal_(self.rnn.weight_hh_l0)
        self.out = nn.Linear(units, 1)

    def forward(self, x):
        h, _ = self.rnn(x)
        return self.out(h[:, -1])


def run(cell, seed, epochs, lr, data):
    torch.manual_seed(seed)
    model = Forecaster(cell, 32)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    (xt, yt), (xv, yv), (xs, ys) = data["train"], data["val"], data["test"]
    mse = nn.MSELoss()
    best, best_state = float("inf"), None
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(xt)).split(32):
            opt.zero_grad()
            loss = mse(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            v = mse(model(xv), yv).item()
        if v < best:
            best, best_state = v, {k: t.clone() for k, t in model.state_dict().items()}
    model.load_state_dict(best_state)
    with torch.no_grad():
        return best, mse(model(xs), ys).item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cell", default="lstm", choices=["lstm", "gru"])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--lr", type=float, default=None)
    args = ap.parse_args()
    if args.lr is None:
        args.lr = {"lstm": 0.02, "gru": 0.01}[args.cell]
    torch.set_num_threads(1)
    data, mean, sd = windows()
    print(f"windows: train {len(data['train'][0])}, val {len(data['val'][0])}, test {len(data['test'][0])}; "
          f"scaling mean {mean:.4f}, 1/sd {1 / sd:.6f}")
    tests = []
    for seed in range(1, args.seeds + 1):
        val, test = run(args.cell, seed, args.epochs, args.lr, data)
        tests.append(test)
        print(f"{args.cell} seed {seed}: best val MSE {val:.1f}, test MSE {test:.1f}")
    sd_t = statistics.stdev(tests) if len(tests) > 1 else 0.0
    print(f"{args.cell} (lr {args.lr}): test MSE mean {statistics.mean(tests):.1f} ± {sd_t:.1f} over {len(tests)} seeds (torch {torch.__version__})")


if __name__ == "__main__":
    main()
