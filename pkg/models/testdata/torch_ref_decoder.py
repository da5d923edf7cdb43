"""Reference values for dltrain's transformer_decoder layer, from PyTorch
1.13's nn.TransformerDecoder of nn.TransformerDecoderLayer
(batch_first=True, dropout 0).

Run with PyTorch 1.13 (Debian's python3-torch):
    /usr/bin/python3 pkg/models/testdata/torch_ref_decoder.py > pkg/models/testdata/torch_ref_decoder.json

Every parameter is set to a deterministic formula (seq() with a phase per
parameter) and written, by its PyTorch name, with the target input x, the
memory, the output and the gradients of L = sum(out * r),
r = seq(out.numel(), 0.5, 0.7), with respect to x, the memory and every
parameter, all in float64. The memory's key-padding mask is written as
dltrain reads it (1 keep, 0 pad); PyTorch gets its negation.
"""
import json
import math

import torch

torch.set_default_dtype(torch.float64)


def seq(n, phase, step, scale=1.0):
    return torch.tensor([scale * math.sin(phase + step * i) for i in range(n)])


def flat(t):
    return [float(v) for v in t.detach().reshape(-1)]


def case(name, b, t, s, d, heads, ff, layers, norm, activation, causal, lengths):
    layer = torch.nn.TransformerDecoderLayer(d, heads, ff, dropout=0.0, activation=activation,
                                             batch_first=True, norm_first=(norm == "pre"))
    m = torch.nn.TransformerDecoder(layer, layers)
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
    mem = seq(b * s * d, 0.7, 0.43).reshape(b, s, d).requires_grad_(True)
    mask = torch.triu(torch.ones(t, t, dtype=torch.bool), 1) if causal else None
    keep, pad = None, None
    if lengths is not None:
        keep = torch.tensor([[1.0 if j < l else 0.0 for j in range(s)] for l in lengths])
        pad = keep == 0
    out = m(x, mem, tgt_mask=mask, memory_key_padding_mask=pad)
    r = seq(out.numel(), 0.5, 0.7).reshape(out.shape)
    (out * r).sum().backward()
    return {
        "name": name, "batch": b, "time": t, "memory_time": s, "dim": d, "heads": heads, "ff": ff, "layers": layers,
        "norm": norm, "activation": activation, "causal": causal,
        "x": flat(x), "memory": flat(mem), "keep": None if keep is None else flat(keep),
        "params": params, "order": ["%s%s" % (n, list(p.shape)) for n, p in m.named_parameters()], "out": flat(out),
        "grad_x": flat(x.grad), "grad_memory": flat(mem.grad),
        "grads": {n: flat(p.grad) for n, p in m.named_parameters()},
        "counts": sum(p.numel() for p in m.parameters()),
    }


cases = [
    case("post_relu_causal", 2, 5, 4, 8, 2, 16, 2, "post", "relu", True, None),
    case("post_relu_causal_memory_padding", 2, 4, 6, 6, 3, 10, 1, "post", "relu", True, [6, 3]),
    case("pre_gelu_causal_memory_padding", 2, 5, 3, 8, 4, 12, 2, "pre", "gelu", True, [2, 3]),
    case("pre_gelu_not_causal", 3, 4, 5, 4, 2, 8, 1, "pre", "gelu", False, None),
]
print(json.dumps({"torch": torch.__version__, "cases": cases}))
