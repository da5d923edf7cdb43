"""Reference values for dltrain's N-D ops (broadcasting, slicing, batched
products, embedding lookup, masks, softmax, sequence cross-entropy).

Run with PyTorch 1.13 (Debian's python3-torch):
    /usr/bin/python3 pkg/ops/testdata/torch_ref_nd.py > pkg/ops/testdata/torch_ref_nd.json

As in torch_ref.py, every input is a deterministic formula of its flat
index, so the Go test (torch_ref_nd_test.go) rebuilds the same tensors:
real values are seq(), integer ids ids(), masks mask_*(). For each case
the file holds the output and the gradients of L = sum(out * r), with
r = seq(out.numel(), 0.5, 0.7), or of L = out for a scalar output (a
loss), with respect to each differentiable input (null for ids, masks and
targets), all in float64.
"""
import json
import math

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def seq(n, phase, step, scale=1.0):
    return torch.tensor([scale * math.sin(phase + step * i) for i in range(n)])


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def tensor(shape, phase, step, scale=1.0):
    return seq(numel(shape), phase, step, scale).reshape(shape).requires_grad_(True)


def ids(shape, mul, add, mod):
    """(mul*i + add) mod `mod` over the flat index i, as float64."""
    return torch.tensor([float((mul * i + add) % mod) for i in range(numel(shape))]).reshape(shape)


def targets(shape, classes, ignore, every):
    """ids(shape, 3, 1, classes), with every `every`-th position (i % every
    == every-1) set to the ignore index."""
    t = ids(shape, 3, 1, classes).flatten()
    for i in range(t.numel()):
        if i % every == every - 1:
            t[i] = ignore
    return t.reshape(shape)


def mask_causal(t):
    """1.0 where key j > query i (masked), else 0."""
    return torch.tensor([[1.0 if j > i else 0.0 for j in range(t)] for i in range(t)])


def mask_padding(lengths, t):
    """[B, 1, 1, t]: 1.0 at key positions j >= lengths[b]."""
    return torch.tensor([[[[1.0 if j >= n else 0.0 for j in range(t)]]] for n in lengths])


def case(name, inputs, fn):
    out = fn(*inputs)
    if out.dim() == 0:
        loss = out
    else:
        loss = (out * seq(out.numel(), 0.5, 0.7).reshape(out.shape)).sum()
    loss.backward()
    return {
        "name": name,
        "out_shape": list(out.shape),
        "out": out.detach().flatten().tolist(),
        "grads": [t.grad.flatten().tolist() if t.grad is not None else None for t in inputs],
    }


cases = []
add = cases.append

# Element-wise and broadcasting products and sums.
add(case("mul_same", [tensor((2, 3, 4), 0.1, 0.3), tensor((2, 3, 4), 0.2, 0.7)], lambda a, b: a * b))
add(case("add_bias_rank3", [tensor((2, 3, 4), 0.3, 0.3), tensor((4,), 0.4, 0.9)], lambda a, b: a + b))
add(case("add_both_broadcast", [tensor((2, 1, 4), 0.5, 0.3), tensor((3, 1), 0.6, 0.9)], lambda a, b: a + b))
add(case("add_size1_axes", [tensor((1, 3), 0.7, 0.5), tensor((2, 1, 1), 0.8, 1.1)], lambda a, b: a + b))
add(case("mul_rank4_rank3", [tensor((2, 1, 3, 1), 0.9, 0.4), tensor((4, 1, 5), 1.0, 0.6)], lambda a, b: a * b))
add(case("mul_scalar_like", [tensor((3, 4), 1.1, 0.4), tensor((1,), 1.2, 0.6)], lambda a, b: a * b))

# Slices, concatenation, stacking.
x = lambda: tensor((2, 5, 3), 1.3, 0.37)
add(case("slice_axis1_1_4", [x()], lambda x: x[:, 1:4, :]))
add(case("slice_last_0_1", [x()], lambda x: x[..., 0:1]))
add(case("slice_axis0_1_2", [x()], lambda x: x[1:2]))
parts = lambda: [tensor((2, 3, 4), 1.4, 0.3), tensor((2, 1, 4), 1.5, 0.5), tensor((2, 2, 4), 1.6, 0.7)]
add(case("concat_axis1", parts(), lambda a, b, c: torch.cat([a, b, c], 1)))
add(case("concat_axis0", [tensor((1, 3), 1.7, 0.3), tensor((2, 3), 1.8, 0.5)], lambda a, b: torch.cat([a, b], 0)))
add(case("concat_last", [tensor((2, 2, 1), 1.9, 0.3), tensor((2, 2, 3), 2.0, 0.5)], lambda a, b: torch.cat([a, b], -1)))
three = lambda: [tensor((2, 3), 2.1, 0.3), tensor((2, 3), 2.2, 0.5), tensor((2, 3), 2.3, 0.7)]
add(case("stack_axis0", three(), lambda a, b, c: torch.stack([a, b, c], 0)))
add(case("stack_axis1", three(), lambda a, b, c: torch.stack([a, b, c], 1)))
add(case("stack_last", three(), lambda a, b, c: torch.stack([a, b, c], -1)))

# Permutations.
add(case("transpose_1_2", [tensor((2, 3, 4, 5), 2.4, 0.31)], lambda x: x.transpose(1, 2)))
add(case("permute_3021", [tensor((2, 3, 4, 5), 2.5, 0.31)], lambda x: x.permute(3, 0, 2, 1)))
add(case("transpose_0_last_size1", [tensor((1, 4, 1, 3), 2.6, 0.43)], lambda x: x.transpose(0, -1)))

# Batched products.
for ta in (False, True):
    for tb in (False, True):
        sa = (2, 3, 5, 4) if ta else (2, 3, 4, 5)
        sb = (2, 3, 2, 5) if tb else (2, 3, 5, 2)
        def f(a, b, ta=ta, tb=tb):
            return torch.matmul(a.transpose(-1, -2) if ta else a, b.transpose(-1, -2) if tb else b)
        add(case(f"bmm_{int(ta)}{int(tb)}", [tensor(sa, 2.7, 0.29), tensor(sb, 2.8, 0.41)], f))
add(case("bmm_batch1_rank3", [tensor((1, 3, 4), 2.9, 0.29), tensor((1, 4, 1), 3.0, 0.41)], torch.matmul))
add(case("bmm_rank2", [tensor((3, 4), 3.1, 0.29), tensor((4, 2), 3.2, 0.41)], torch.matmul))

# Embedding lookup (ids as float64 in dltrain, as long in PyTorch).
def embedding(table, i):
    return F.embedding(i.long(), table)


add(case("gather_2x5", [tensor((7, 4), 3.3, 0.3), ids((2, 5), 3, 1, 7)], embedding))
add(case("gather_rank1", [tensor((5, 3), 3.4, 0.3), ids((4,), 2, 0, 5)], embedding))
add(case("gather_padding_3", [tensor((7, 4), 3.3, 0.3), ids((2, 5), 3, 1, 7)],
         lambda t, i: F.embedding(i.long(), t, padding_idx=3)))
add(case("gather_rank3_dim1", [tensor((6, 1), 3.5, 0.3), ids((2, 3, 2), 5, 2, 6)], embedding))

# Masks.
scores = lambda: tensor((2, 2, 3, 3), 3.6, 0.53, 3.0)
causal, pad = mask_causal(3), mask_padding([3, 2], 3)
add(case("masked_fill_causal", [scores(), causal], lambda x, m: x.masked_fill(m.bool(), -1e4)))
add(case("masked_fill_padding", [scores(), pad], lambda x, m: x.masked_fill(m.bool(), -1e4)))
add(case("masked_fill_softmax_inf", [scores(), causal],
         lambda x, m: torch.softmax(x.masked_fill(m.bool(), float("-inf")), -1)))
add(case("add_mask_softmax_inf", [scores(), causal],
         lambda x, m: torch.softmax(x + m.masked_fill(m.bool(), float("-inf")), -1)))
add(case("add_mask_padding_large", [scores(), pad], lambda x, m: x + m * -1e9))

# Softmax over the last axis.
add(case("softmax_rank4", [tensor((2, 3, 4, 5), 3.7, 0.61, 5.0)], lambda x: torch.softmax(x, -1)))
add(case("softmax_rank1", [tensor((6,), 3.8, 0.61, 5.0)], lambda x: torch.softmax(x, -1)))
add(case("softmax_size1", [tensor((3, 1), 3.9, 0.61, 5.0)], lambda x: torch.softmax(x, -1)))
add(case("softmax_large", [tensor((2, 4), 4.0, 0.61, 800.0)], lambda x: torch.softmax(x, -1)))

# Dense on the last axis (w is [F, units], as dltrain stores it).
dense = lambda x, w, b=None: F.linear(x, w.t(), b)
add(case("dense_last_rank3", [tensor((2, 3, 4), 4.1, 0.3), tensor((4, 5), 4.2, 0.7, 0.5), tensor((5,), 4.3, 0.9)], dense))
add(case("dense_last_rank4_relu", [tensor((2, 1, 3, 4), 4.4, 0.3), tensor((4, 5), 4.5, 0.7, 0.5), tensor((5,), 4.6, 0.9)],
         lambda x, w, b: torch.relu(dense(x, w, b))))
add(case("dense_last_tanh_nobias", [tensor((3, 2, 4), 4.7, 0.3), tensor((4, 3), 4.8, 0.7, 0.5)],
         lambda x, w: torch.tanh(dense(x, w))))
add(case("dense_last_gelu", [tensor((2, 3, 4), 4.9, 0.3), tensor((4, 2), 5.0, 0.7, 0.5), tensor((2,), 5.1, 0.9)],
         lambda x, w, b: F.gelu(dense(x, w, b))))
add(case("dense_last_rank1", [tensor((4,), 5.2, 0.3), tensor((4, 3), 5.3, 0.7, 0.5), tensor((3,), 5.4, 0.9)], dense))

# Cross-entropy over every position, with an ignore index.
add(case("seq_ce_ignore_-100", [tensor((2, 4, 5), 5.5, 0.47, 2.0), targets((2, 4), 5, -100, 3)],
         lambda l, y: F.cross_entropy(l.reshape(-1, 5), y.reshape(-1).long(), ignore_index=-100)))
add(case("seq_ce_ignore_0", [tensor((3, 2, 4), 5.6, 0.47, 2.0), targets((3, 2), 4, 0, 4)],
         lambda l, y: F.cross_entropy(l.reshape(-1, 4), y.reshape(-1).long(), ignore_index=0)))
add(case("seq_ce_rank2_none_ignored", [tensor((5, 3), 5.7, 0.47, 2.0), ids((5,), 2, 1, 3)],
         lambda l, y: F.cross_entropy(l, y.long(), ignore_index=-100)))
add(case("seq_ce_partial_batch", [tensor((1, 3, 4), 5.8, 0.47, 2.0), targets((1, 3), 4, -1, 2)],
         lambda l, y: F.cross_entropy(l.reshape(-1, 4), y.reshape(-1).long(), ignore_index=-1)))

print(json.dumps({"torch": torch.__version__, "cases": cases}))
