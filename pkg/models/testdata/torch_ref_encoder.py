"""Reference values for dltrain's transformer_encoder layer, from PyTorch
1.13's nn.TransformerEncoder of nn.TransformerEncoderLayer
(batch_first=True, dropout 0).

Run with PyTorch 1.13 (Debian's python3-torch):
    /usr/bin/python3 pkg/models/testdata/torch_ref_encoder.py > pkg/models/testdata/torch_ref_encoder.json

Every parameter is set to a deterministic formula (seq() with a phase per
parameter) and written, by its PyTorch name, with the input x, the output
and the gradients of L = sum(out * r), r = seq(out.numel(), 0.5, 0.7),
with respect to x and every parameter, all in float64. The key-padding
mask is written as dltrain reads it (1 keep, 0 pad); PyTorch gets its
negation.
"""
import json
import math

import torch

torch.set_default_dtype(torch.float64)


def seq(n, phase, step, scale=1.0):
    return torch.tensor([scale * math.sin(phase + step * i) for i in range(n)])


def flat(t):
    return [float(v) for v in t.detach().reshape(-1)]


def case(name, b, t, d, heads, ff, layers, norm, activation, causal, lengths):
    layer = torch.nn.TransformerEncoderLayer(d, heads, ff, dropout=0.0, activation=activation,
                                             batch_first=True, norm_first=(norm == "pre"))
    m = torch.nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
    m.train()
    params = {}
    with torch.no_grad():
        for i, (pname, p) in enumerate(m.named_parameters()):
            scale = 0.5 if p.dim() == 2 else 0.2
            if "norm" in pname and pname.endswith("weight"):
                p.copy_(1 + seq(p.numel(), 0.1 * i, 0.61, 0.1).reshape(p.shape))
            else:
                p.copy_(seq(p.numel(), 0.3 * i, 0.37 + 0.01 * i, scale).reshape(p.shape))
            params[pname] = flat(p)
    x = seq(b * t * d, 0.1, 0.29).reshape(b, t, d).requires_grad_(True)
    mask = torch.triu(torch.ones(t, t, dtype=torch.bool), 1) if causal else None
    keep, pad = None, None
    if lengths is not None:
        keep = torch.tensor([[1.0 if j < l else 0.0 for j in range(t)] for l in lengths])
        pad = keep == 0
    out = m(x, mask=mask, src_key_padding_mask=pad)
    r = seq(out.numel(), 0.5, 0.7).reshape(out.shape)
    (out * r).sum().backward()
    return {
        "name": name, "batch": b, "time": t, "dim": d, "heads": heads, "ff": ff, "layers": layers,
        "norm": norm, "activation": activation, "causal": causal,
        "x": flat(x), "keep": None if keep is None else flat(keep),
        "params": params, "order": ["%s%s" % (n, list(p.shape)) for n, p in m.named_parameters()], "out": flat(out), "grad_x": flat(x.grad),
        "grads": {n: flat(p.grad) for n, p in m.named_parameters()},
        "counts": sum(p.numel() for p in m.parameters()),
    }


cases = [
    case("post_relu", 2, 5, 8, 2, 16, 2, "post", "relu", False, None),
    case("pre_gelu", 2, 5, 8, 4, 12, 2, "pre", "gelu", False, None),
    case("post_causal_padding", 2, 4, 6, 3, 10, 1, "post", "relu", True, [4, 2]),
    case("pre_causal_gelu", 3, 4, 4, 2, 8, 1, "pre", "gelu", True, None),
]
print(json.dumps({"torch": torch.__version__, "cases": cases}))
