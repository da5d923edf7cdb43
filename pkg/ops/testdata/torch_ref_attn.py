"""Reference values for dltrain's fused multi-head attention op
(ops.MultiheadAttention), from PyTorch 1.13's nn.MultiheadAttention.

Run with PyTorch 1.13 (Debian's python3-torch):
    /usr/bin/python3 pkg/ops/testdata/torch_ref_attn.py > pkg/ops/testdata/torch_ref_attn.json

Every input is a deterministic formula of its flat index (seq()), written
to the file with the results, so the Go test (attention_test.go) reads
the inputs rather than rebuilding them. For each case the file holds the
output and the gradients of L = sum(out * r), r = seq(out.numel(), 0.5,
0.7), with respect to the queries, the keys/values source (self-attention:
the one input, whose gradient sums both uses) and the four weights, in
float64, dropout 0. The key-padding mask is written as dltrain reads it,
1 = keep and 0 = pad; PyTorch is given its negation (True = pad).
"""
import json
import math

import torch

torch.set_default_dtype(torch.float64)


def seq(n, phase, step, scale=1.0):
    return torch.tensor([scale * math.sin(phase + step * i) for i in range(n)])


def tensor(shape, phase, step, scale=1.0):
    n = 1
    for d in shape:
        n *= d
    return seq(n, phase, step, scale).reshape(shape).requires_grad_(True)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1)]


def case(name, b, tq, tk, d, heads, self_attn, causal, lengths):
    m = torch.nn.MultiheadAttention(d, heads, batch_first=True)
    with torch.no_grad():
        m.in_proj_weight.copy_(seq(3 * d * d, 0.3, 0.37, 0.5).reshape(3 * d, d))
        m.in_proj_bias.copy_(seq(3 * d, 1.1, 0.91, 0.2))
        m.out_proj.weight.copy_(seq(d * d, 0.7, 0.53, 0.5).reshape(d, d))
        m.out_proj.bias.copy_(seq(d, 0.2, 1.3, 0.1))
    q = tensor([b, tq, d], 0.1, 0.29)
    kv = q if self_attn else tensor([b, tk, d], 0.4, 0.23)
    attn_mask = None
    if causal:
        attn_mask = torch.triu(torch.ones(tq, tk, dtype=torch.bool), 1)
    keep = None
    pad = None
    if lengths is not None:
        keep = torch.tensor([[1.0 if j < l else 0.0 for j in range(tk)] for l in lengths])
        pad = keep == 0
    out, _ = m(q, kv, kv, key_padding_mask=pad, attn_mask=attn_mask, need_weights=False)
    r = seq(out.numel(), 0.5, 0.7).reshape(out.shape)
    (out * r).sum().backward()
    c = {
        "name": name, "batch": b, "tq": tq, "tk": tk, "dim": d, "heads": heads,
        "self": self_attn, "causal": causal,
        "q": flat(q), "kv": None if self_attn else flat(kv),
        "keep": None if keep is None else flat(keep),
        "in_proj_weight": flat(m.in_proj_weight), "in_proj_bias": flat(m.in_proj_bias),
        "out_proj_weight": flat(m.out_proj.weight), "out_proj_bias": flat(m.out_proj.bias),
        "r": flat(r), "out": flat(out),
        "grad_q": flat(q.grad), "grad_kv": None if self_attn else flat(kv.grad),
        "grad_in_proj_weight": flat(m.in_proj_weight.grad), "grad_in_proj_bias": flat(m.in_proj_bias.grad),
        "grad_out_proj_weight": flat(m.out_proj.weight.grad), "grad_out_proj_bias": flat(m.out_proj.bias.grad),
    }
    return c


cases = [
    case("self", 2, 4, 4, 6, 2, True, False, None),
    case("self_causal", 2, 5, 5, 6, 3, True, True, None),
    case("self_padding", 2, 4, 4, 8, 2, True, False, [4, 2]),
    case("self_causal_padding", 3, 4, 4, 4, 1, True, True, [4, 3, 1]),
    case("cross", 2, 3, 5, 6, 2, False, False, None),
    case("cross_padding", 2, 3, 5, 8, 4, False, False, [5, 3]),
    case("cross_causal_padding", 2, 4, 3, 6, 3, False, True, [3, 2]),
]


def pool(name, mode):
    """ops.SequencePool: x.mean(1) or x[:, 0] of x [2, 3, 4]."""
    x = tensor([2, 3, 4], 0.2, 0.41)
    out = x.mean(1) if mode == "mean" else x[:, 0]
    r = seq(out.numel(), 0.5, 0.7).reshape(out.shape)
    (out * r).sum().backward()
    return {"name": name, "mode": mode, "x": flat(x), "out": flat(out), "grad_x": flat(x.grad)}


pools = [pool("pool_mean", "mean"), pool("pool_first", "first")]
print(json.dumps({"torch": torch.__version__, "cases": cases, "pools": pools}))
