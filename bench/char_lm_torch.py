#!/usr/bin/env python3
"""PyTorch 1.13 at the architecture, data, split and budget of configs/opticks-char-lstm.yaml,
configs/opticks-char-gru.yaml and configs/opticks-char-transformer.yaml, to compare their test
cross-entropy with dltrain's (bench/char_lm_compare.sh runs both sides).

Usage: /usr/bin/python3 bench/char_lm_torch.py --model lstm|gru|transformer --text FILE
       [--epochs 4] [--seed 1] [--threads 2] [--seq 64] [--stride 64] [--batch 64] [--lr 0.002]
       [--clip 1.0] [--dim 64] [--units 128]

Data as dltrain prepares it (pkg/data/text.go, text.tokens: char, lowercase: true,
text.targets: all, encoding: index): the file read as UTF-8 (a byte order mark dropped, CRLF
as LF), lower-cased, cut into characters; the first 80% of the characters are the training
block, the next 10% validation, the last 10% test (counts rounded half away from zero, as Go's
math.Round); the vocabulary is <unk> (id 0) then the training block's characters in sorted
order; windows of --seq characters start every --stride characters inside a block (a window
and the character after it never cross a block's end), and each position's target is the
character after it.

Models, initialized as dltrain initializes them:
- lstm / gru: Embedding(V, dim) ~ N(0, 1); one LSTM/GRU layer of --units over every position
  (PyTorch's uniform(-1/sqrt(H), 1/sqrt(H)) for weight_ih and the biases, weight_hh orthogonal
  as dltrain's recurrent_init default); Linear(units, V) per position with dltrain's dense
  init: weight N(0, 2/units) (he_normal), bias 0.
- transformer: Embedding(V, dim) ~ N(0, 1) + learned positions [seq, dim] ~ N(0, 0.02^2);
  nn.TransformerEncoder of 2 nn.TransformerEncoderLayer(dim, 4 heads, ff 128, dropout 0,
  post-norm, relu) with PyTorch's default init (which is dltrain's) and a causal mask; the
  same per-position Linear(dim, V).

Training: Adam(lr, betas (0.9, 0.999), eps 1e-8), batch --batch (the last batch partial),
shuffled every epoch, the mean cross-entropy over every position of the batch, gradients
clipped to a global L2 norm of --clip (torch.nn.utils.clip_grad_norm_, as dltrain's
clip_norm); after each epoch the mean validation cross-entropy over every position; the weights
of the epoch with the lowest validation loss are evaluated on the test windows (dltrain's
best checkpoint by val_loss). What differs from dltrain: the random draws (initial weights,
batch order) come from torch's generator, not dltrain's.

Prints one JSON line: the model, vocabulary, windows, per-epoch losses, the test
cross-entropy and perplexity, and the seconds spent training.
"""
import argparse
import json
import math
import time

import torch
from torch import nn


def go_round(x):
    """math.Round: half away from zero (Python's round() rounds half to even)."""
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def load(path, seq, stride, val=0.1, test=0.1):
    raw = open(path, "rb").read()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    text = raw.decode("utf-8").replace("\r\n", "\n").lower()
    toks = list(text)
    n = len(toks)
    n_test, n_val = go_round(test * n), go_round(val * n)
    bounds = [n - n_test - n_val, n - n_test, n]
    vocab = ["<unk>"] + sorted(set(toks[: bounds[0]]))
    index = {t: i for i, t in enumerate(vocab)}
    ids = [index.get(t, 0) for t in toks]
    splits = {}
    lo = 0
    for name, hi in zip(["train", "val", "test"], bounds):
        xs, ys = [], []
        s = lo
        while s + seq < hi:
            xs.append(ids[s : s + seq])
            ys.append(ids[s + 1 : s + seq + 1])
            s += stride
        splits[name] = (torch.tensor(xs, dtype=torch.long), torch.tensor(ys, dtype=torch.long))
        lo = hi
    return vocab, splits


class RecurrentLM(nn.Module):
    def __init__(self, cell, vocab, dim, units):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)  # N(0, 1), as dltrain
        self.rnn = (nn.LSTM if cell == "lstm" else nn.GRU)(dim, units, batch_first=True)
        nn.init.orthogonal_(self.rnn.weight_hh_l0)  # dltrain's recurrent_init default
        self.out = nn.Linear(units, vocab)
        nn.init.normal_(self.out.weight, 0, math.sqrt(2 / units))  # he_normal, dltrain's model.init
        nn.init.zeros_(self.out.bias)

    def forward(self, x):
        h, _ = self.rnn(self.emb(x))
        return self.out(h)


class TransformerLM(nn.Module):
    def __init__(self, vocab, dim, seq, layers=2, heads=4, ff=128):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.pos = nn.Parameter(torch.randn(seq, dim) * 0.02)  # positional kind: learned
        layer = nn.TransformerEncoderLayer(dim, heads, ff, dropout=0.0, batch_first=True)
        self.enc = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.out = nn.Linear(dim, vocab)
        nn.init.normal_(self.out.weight, 0, math.sqrt(2 / dim))
        nn.init.zeros_(self.out.bias)
        self.register_buffer("mask", torch.triu(torch.ones(seq, seq, dtype=torch.bool), 1))

    def forward(self, x):
        t = x.shape[1]
        h = self.emb(x) + self.pos[:t]
        return self.out(self.enc(h, mask=self.mask[:t, :t]))


def mean_ce(model, x, y, batch):
    """The mean cross-entropy over every position of a split."""
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            logits = model(x[i : i + batch])
            total += nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y[i : i + batch].reshape(-1), reduction="sum").item()
            count += y[i : i + batch].numel()
    model.train()
    return total / count


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", choices=["lstm", "gru", "transformer"], required=True)
    ap.add_argument("--text", required=True)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--stride", type=int, default=64)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.002)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--units", type=int, default=128)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    vocab, splits = load(a.text, a.seq, a.stride)
    v = len(vocab)
    if a.model == "transformer":
        model = TransformerLM(v, a.dim, a.seq)
    else:
        model = RecurrentLM(a.model, v, a.dim, a.units)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, betas=(0.9, 0.999), eps=1e-8)
    xtr, ytr = splits["train"]
    best, best_state, history = math.inf, None, []
    start = time.time()
    for epoch in range(a.epochs):
        perm = torch.randperm(len(xtr))
        total, steps = 0.0, 0
        for i in range(0, len(xtr), a.batch):
            idx = perm[i : i + a.batch]
            logits = model(xtr[idx])
            loss = nn.functional.cross_entropy(logits.reshape(-1, v), ytr[idx].reshape(-1))
            opt.zero_grad()
            loss.backward()
            if a.clip > 0:
                nn.utils.clip_grad_norm_(model.parameters(), a.clip)
            opt.step()
            total += loss.item()
            steps += 1
        val = mean_ce(model, *splits["val"], a.batch)
        history.append({"epoch": epoch + 1, "train_loss": total / steps, "val_loss": val})
        if val < best:
            best, best_state = val, {k: t.clone() for k, t in model.state_dict().items()}
    seconds = time.time() - start
    model.load_state_dict(best_state)
    test = mean_ce(model, *splits["test"], a.batch)
    print(json.dumps({
        "model": a.model, "seed": a.seed, "epochs": a.epochs, "vocabulary": v,
        "windows": {k: len(x) for k, (x, _) in splits.items()},
        "parameters": sum(p.numel() for p in model.parameters()),
        "history": history, "test_cross_entropy": test, "test_perplexity": math.exp(test),
        "train_seconds": round(seconds, 1),
    }))


if __name__ == "__main__":
    main()
