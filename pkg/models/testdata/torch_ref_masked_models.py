"""Reference values for whole models on padded token ids, where dltrain
defines the padding mask from the ids (Spec.PadMask, pkg/models/mask.go)
and its layers use it by the auto rule, against PyTorch 1.13 doing the
same by hand: pack_padded_sequence for the recurrent layers,
src_key_padding_mask for the encoder, pooling over the real positions.

Run with PyTorch 1.13 (Debian's python3-torch):
    /usr/bin/python3 pkg/models/testdata/torch_ref_masked_models.py > pkg/models/testdata/torch_ref_masked_models.json

B = 3 sequences of T = 6 token ids (vocabulary V = 9, id 0 = padding) of
lengths LENGTHS. Every parameter k (in dltrain's order) is seq(n, 0.05 +
0.1k, 0.37, 0.5), but layer-norm weights 1 + seq(n, 0.1k, 0.61, 0.1). Each
case holds the model's YAML layers, the parameters in dltrain's order and
layout (a dense layer's W is nn.Linear's weight transposed) with their
gradients of L = sum(out * r), r = seq(out.numel(), 0.5, 0.7), and the
output, all in float64.
"""
import json
import math

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

torch.set_default_dtype(torch.float64)

B, T, V = 3, 6, 9
LENGTHS = [6, 3, 1]
IDS = [[1 + (5 * r + 3 * p) % (V - 1) if p < n else 0 for p in range(T)] for r, n in enumerate(LENGTHS)]


def seq(n, phase, step, scale=1.0):
    return torch.tensor([scale * math.sin(phase + step * i) for i in range(n)])


def flat(t):
    return [float(v) for v in t.detach().reshape(-1)]


class Linear:
    """dltrain's dense layer: W [in, out] (nn.Linear's weight transposed)."""

    def __init__(self, i, o):
        self.W = nn.Parameter(torch.zeros(i, o))
        self.b = nn.Parameter(torch.zeros(o))

    def __call__(self, x):
        return x @ self.W + self.b


def packed(rnn, e):
    out, state = rnn(pack_padded_sequence(e, torch.tensor(LENGTHS), batch_first=True, enforce_sorted=False))
    return out, state


def bilstm():
    emb, rnn, dense = nn.Embedding(V, 4, padding_idx=0), nn.LSTM(4, 3, bidirectional=True, batch_first=True), Linear(6, 2)

    def forward(ids, keep):
        _, (h_n, _) = packed(rnn, emb(ids))
        return dense(h_n.permute(1, 0, 2).reshape(B, 6))
    params = [emb.weight] + list(rnn.parameters()) + [dense.W, dense.b]
    layers = "[{type: embedding, dim: 4, vocab: 9, padding_id: 0}, {type: lstm, units: 3, bidirectional: true}, {type: dense, units: 2}]"
    return layers, params, forward


def gru_max():
    emb, rnn, dense = nn.Embedding(V, 4), nn.GRU(4, 3, num_layers=2, batch_first=True), Linear(3, 2)

    def forward(ids, keep):
        out, _ = packed(rnn, emb(ids))
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=T)
        return dense(out.masked_fill(keep.unsqueeze(-1) == 0, -math.inf).max(dim=1).values)
    params = [emb.weight] + list(rnn.parameters()) + [dense.W, dense.b]
    layers = "[{type: embedding, dim: 4, vocab: 9}, {type: gru, units: 3, layers: 2, return_sequences: true}, {type: sequence_pool, mode: max}, {type: dense, units: 2}]"
    return layers, params, forward


def encoder():
    emb = nn.Embedding(V, 8)
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), 2, enable_nested_tensor=False)
    dense = Linear(8, 2)

    def forward(ids, keep):
        h = enc(emb(ids), src_key_padding_mask=keep == 0)
        pooled = (h * keep.unsqueeze(-1)).sum(1) / keep.sum(1, keepdim=True)
        return dense(pooled)
    params = [emb.weight] + list(enc.parameters()) + [dense.W, dense.b]
    layers = "[{type: embedding, dim: 8, vocab: 9}, {type: transformer_encoder, layers: 2, heads: 2, ff: 16, dropout: 0}, {type: sequence_pool, mode: mean}, {type: dense, units: 2}]"
    names = ["emb"] + [n for n, _ in enc.named_parameters()] + ["W", "b"]
    return layers, params, forward, names


def case(name, made):
    layers, params, forward = made[:3]
    names = made[3] if len(made) > 3 else [""] * len(params)
    with torch.no_grad():
        for k, (p, pname) in enumerate(zip(params, names)):
            if "norm" in pname and pname.endswith("weight"):
                p.copy_(1 + seq(p.numel(), 0.1 * k, 0.61, 0.1).reshape(p.shape))
            else:
                p.copy_(seq(p.numel(), 0.05 + 0.1 * k, 0.37, 0.5).reshape(p.shape))
    ids = torch.tensor(IDS)
    keep = (ids != 0).double()
    out = forward(ids, keep)
    (out * seq(out.numel(), 0.5, 0.7).reshape(out.shape)).sum().backward()
    return {"name": name, "layers": layers, "out": flat(out), "params": [flat(p) for p in params],
            "grads": [flat(p.grad) for p in params]}


print(json.dumps({"torch": torch.__version__, "ids": IDS, "cases": [
    case("embedding_bilstm_last", bilstm()),
    case("embedding_gru2_sequences_maxpool", gru_max()),
    case("embedding_encoder2_meanpool", encoder()),
]}))
