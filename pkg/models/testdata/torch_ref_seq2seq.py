"""Reference values for dltrain's seq2seq model kind, from PyTorch 1.13's
nn.Transformer (batch_first=True, dropout 0) between two nn.Embedding
(padding_idx=0) with sinusoidal positions added, and an nn.Linear
generator.

Run with PyTorch 1.13 (Debian's python3-torch):
    /usr/bin/python3 pkg/models/testdata/torch_ref_seq2seq.py > pkg/models/testdata/torch_ref_seq2seq.json

Every parameter is set to a deterministic formula and written under
dltrain's name (PyTorch's, "/" after the module: encoder/layers.0...,
src_embedding/weight, generator/bias), with the input ids x (source, then
BOS and the target's ids; 0 pads), the targets y, the logits, the loss
F.cross_entropy(logits, y, ignore_index=0) and the gradient of the loss
with respect to every parameter, in float64. The source's padding masks
the encoder's keys and the decoder's memory; the decoder is causal.
"""
import json
import math

import torch

torch.set_default_dtype(torch.float64)


def seq(n, phase, step, scale=1.0):
    return torch.tensor([scale * math.sin(phase + step * i) for i in range(n)])


def flat(t):
    return [float(v) for v in t.detach().reshape(-1)]


def sinusoid(t, d):
    pe = torch.zeros(t, d)
    for pos in range(t):
        for j in range(d):
            i = j - j % 2
            angle = pos / math.pow(10000, i / d)
            pe[pos, j] = math.sin(angle) if j % 2 == 0 else math.cos(angle)
    return pe


class Seq2Seq(torch.nn.Module):
    def __init__(self, vs, vt, d, heads, ff, enc, dec, norm, activation):
        super().__init__()
        self.src_embedding = torch.nn.Embedding(vs, d, padding_idx=0)
        self.tgt_embedding = torch.nn.Embedding(vt, d, padding_idx=0)
        self.transformer = torch.nn.Transformer(d, heads, enc, dec, ff, dropout=0.0, activation=activation,
                                                batch_first=True, norm_first=(norm == "pre"))
        self.generator = torch.nn.Linear(d, vt)

    def forward(self, src, tgt):
        s, t = src.shape[1], tgt.shape[1]
        d = self.src_embedding.weight.shape[1]
        pad = src == 0
        causal = torch.triu(torch.ones(t, t, dtype=torch.bool), 1)
        out = self.transformer(self.src_embedding(src) + sinusoid(s, d), self.tgt_embedding(tgt) + sinusoid(t, d),
                               tgt_mask=causal, src_key_padding_mask=pad, memory_key_padding_mask=pad)
        return self.generator(out)


def name(n):
    module, _, rest = n.replace("transformer.", "", 1).partition(".")
    return module + "/" + rest


def case(label, vs, vt, d, heads, ff, enc, dec, norm, activation, src, tgt_in, y):
    m = Seq2Seq(vs, vt, d, heads, ff, enc, dec, norm, activation)
    m.train()
    params = {}
    with torch.no_grad():
        for i, (pname, p) in enumerate(m.named_parameters()):
            scale = 0.5 if p.dim() == 2 else 0.2
            if "norm" in pname and pname.endswith("weight"):
                p.copy_(1 + seq(p.numel(), 0.1 * i, 0.61, 0.1).reshape(p.shape))
            else:
                p.copy_(seq(p.numel(), 0.3 * i, 0.37 + 0.01 * i, scale).reshape(p.shape))
            if pname.endswith("embedding.weight"):
                p[0].zero_()  # the padding row, as nn.Embedding(padding_idx=0) starts it
            params[name(pname)] = flat(p)
    src_t, tgt_t, y_t = torch.tensor(src), torch.tensor(tgt_in), torch.tensor(y)
    logits = m(src_t, tgt_t)
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vt), y_t.reshape(-1), ignore_index=0)
    loss.backward()
    return {
        "name": label, "source_vocab": vs, "target_vocab": vt, "dim": d, "heads": heads, "ff": ff,
        "encoder_layers": enc, "decoder_layers": dec, "norm": norm, "activation": activation,
        "source_length": len(src[0]), "target_length": len(tgt_in[0]),
        "x": [float(v) for a, b in zip(src, tgt_in) for v in a + b], "y": [float(v) for r in y for v in r],
        "params": params, "order": [name(n) for n, _ in m.named_parameters()],
        "logits": flat(logits), "loss": float(loss),
        "grads": {name(n): flat(p.grad) for n, p in m.named_parameters()},
        "counts": sum(p.numel() for p in m.parameters()),
    }


src = [[4, 5, 6, 7, 1], [6, 4, 0, 0, 0], [5, 5, 8, 0, 0]]
tgt_in = [[2, 4, 5, 6], [2, 5, 0, 0], [2, 1, 4, 7]]
y = [[4, 5, 6, 3], [5, 3, 0, 0], [1, 4, 7, 3]]
cases = [
    case("post_relu", 9, 8, 8, 2, 12, 2, 1, "post", "relu", src, tgt_in, y),
    case("pre_gelu", 9, 8, 6, 3, 10, 1, 2, "pre", "gelu", src, tgt_in, y),
]
print(json.dumps({"torch": torch.__version__, "cases": cases}))
