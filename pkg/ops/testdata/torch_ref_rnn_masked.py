"""Reference values for dltrain's masked recurrent ops (ops.RecurrentMasked
and ops.RecurrentLastMasked): sequences of different lengths in one batch,
run by PyTorch 1.13 through pack_padded_sequence.

Run with PyTorch 1.13 (Debian's python3-torch):
    /usr/bin/python3 pkg/ops/testdata/torch_ref_rnn_masked.py > pkg/ops/testdata/torch_ref_rnn_masked.json

Inputs are torch_ref_rnn.py's formulas (seq()), on B = 3 sequences of
T = 5 steps whose lengths are LENGTHS (not sorted: enforce_sorted=False).
The mask the Go test gives is 1 at steps < length, 0 after. A case runs
one layer (nn.RNN tanh, nn.LSTM, nn.GRU; one direction, or both) on
pack_padded_sequence(x, LENGTHS); its output is pad_packed_sequence's
(zeros at padded steps, total_length T) or, for a _last case, h_n with the
directions side by side [B, D*H]. Each case holds the output and the
gradients of L = sum(out * r), r = seq(out.numel(), 0.5, 0.7), with
respect to x, then each direction's weight_ih, weight_hh, bias_ih and
bias_hh (the forward direction's weights(g, 0), the reverse one's
weights(g, 1)).

"layers" are whole masked layers as pkg/models builds them (a padding
mask from the data): a module with num_layers and bidirectional, its k-th
parameter in named_parameters() order set to seq(n, 0.05 + 0.1k, 0.37,
0.5), on x = seq(B*T*F, 0.2, 0.41, 1.5) with LENGTHS; "sequences" is the
top layer's padded output, "last" its h_n; the gradients are those of x
then every parameter.
"""
import json
import math

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

torch.set_default_dtype(torch.float64)

B, T, F, H = 3, 5, 3, 4
LENGTHS = [5, 2, 4]
GATES = {"rnn_tanh": 1, "lstm": 4, "gru": 3}
NAMES = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]


def seq(n, phase, step, scale=1.0):
    return torch.tensor([scale * math.sin(phase + step * i) for i in range(n)])


def weights(g, phase):
    return [
        seq(g * H * F, phase + 0.1, 0.37, 0.6).reshape(g * H, F),
        seq(g * H * H, phase + 0.2, 0.53, 0.5).reshape(g * H, H),
        seq(g * H, phase + 0.3, 0.71, 0.4),
        seq(g * H, phase + 0.4, 0.29, 0.4),
    ]


def run(m, x, last):
    packed = pack_padded_sequence(x, torch.tensor(LENGTHS), batch_first=True, enforce_sorted=False)
    out, state = m(packed)
    if last:
        h_n = state[0] if isinstance(state, tuple) else state
        d = 2 if m.bidirectional else 1
        return h_n[-d:].permute(1, 0, 2).reshape(B, -1)
    out, _ = pad_packed_sequence(out, batch_first=True, total_length=T)
    return out


def case(cell, bidirectional, last):
    g = GATES[cell]
    kw = dict(input_size=F, hidden_size=H, batch_first=True, bidirectional=bidirectional)
    m = {"lstm": nn.LSTM, "gru": nn.GRU}.get(cell, nn.RNN)(**kw)
    suffixes = ["", "_reverse"] if bidirectional else [""]
    with torch.no_grad():
        for phase, sfx in enumerate(suffixes):
            for name, w in zip(NAMES, weights(g, float(phase))):
                getattr(m, name + sfx).copy_(w)
    x = seq(B * T * F, 0.2, 0.41, 1.5).reshape(B, T, F).requires_grad_(True)
    out = run(m, x, last)
    (out * seq(out.numel(), 0.5, 0.7).reshape(out.shape)).sum().backward()
    params = [getattr(m, n + sfx) for sfx in suffixes for n in NAMES]
    name = cell + ("_bidirectional" if bidirectional else "") + ("_last" if last else "")
    return {"name": name, "out_shape": list(out.shape), "out": out.detach().flatten().tolist(),
            "grads": [t.grad.flatten().tolist() for t in [x] + params]}


LAYERS = [
    # name, dltrain layer, module, output
    ("lstm_2_layers_bidirectional_last", "{type: lstm, units: 3, layers: 2, bidirectional: true}",
     lambda: nn.LSTM(F, 3, num_layers=2, bidirectional=True, batch_first=True), "last"),
    ("gru_2_layers_bidirectional_sequences", "{type: gru, units: 3, layers: 2, bidirectional: true, return_sequences: true}",
     lambda: nn.GRU(F, 3, num_layers=2, bidirectional=True, batch_first=True), "sequences"),
    ("lstm_last", "{type: lstm, units: 4}",
     lambda: nn.LSTM(F, 4, batch_first=True), "last"),
]


def layer_case(name, layer, make, output):
    m = make()
    params = list(m.parameters())
    with torch.no_grad():
        for k, p in enumerate(params):
            p.copy_(seq(p.numel(), 0.05 + 0.1 * k, 0.37, 0.5).reshape(p.shape))
    x = seq(B * T * F, 0.2, 0.41, 1.5).reshape(B, T, F).requires_grad_(True)
    out = run(m, x, output == "last")
    (out * seq(out.numel(), 0.5, 0.7).reshape(out.shape)).sum().backward()
    return {"name": name, "layer": layer, "out_shape": list(out.shape), "out": out.detach().flatten().tolist(),
            "grads": [t.grad.flatten().tolist() for t in [x] + params]}


cases = [case(c, bi, last) for c in GATES for bi in (False, True) for last in (False, True)]
print(json.dumps({"torch": torch.__version__, "sizes": {"B": B, "T": T, "F": F, "H": H}, "lengths": LENGTHS,
                  "cases": cases, "layers": [layer_case(*c) for c in LAYERS]}))
