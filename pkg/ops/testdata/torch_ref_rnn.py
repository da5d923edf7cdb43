"""Reference values for dltrain's fused recurrent ops (ops.Recurrent: RNN
tanh and relu, LSTM, GRU, in both directions).

Run with PyTorch 1.13 (Debian's python3-torch):
    /usr/bin/python3 pkg/ops/testdata/torch_ref_rnn.py > pkg/ops/testdata/torch_ref_rnn.json

Every input is a deterministic formula of its flat index, seq() as in
torch_ref.py, so the Go test (torch_ref_rnn_test.go) rebuilds the same
tensors. The op runs PyTorch's own modules (nn.RNN, nn.LSTM, nn.GRU, one
layer, batch_first, zero initial state). A `_reverse` case is the reverse
half of a bidirectional module, whose forward half is given other weights
and left out of the loss; a `_bidirectional` case is the whole output
[B, T, 2H]; a `_bidirectional_last` case is h_n, both directions' last
states [B, 2H] (ops.RecurrentLast). Each case holds the output and the gradients of
L = sum(out * r), r = seq(out.numel(), 0.5, 0.7), with respect to x and
then each direction's weight_ih, weight_hh, bias_ih and bias_hh, all in
float64.

"layers" are whole layers as dltrain's rnn/lstm/gru layers configure them
(pkg/models/recurrent_test.go): a module with num_layers and bidirectional,
its k-th parameter in named_parameters() order set to seq(n, 0.05 + 0.1k,
0.37, 0.5), on x = seq(B*T*F, 0.2, 0.41, 1.5); the output is every step of
the top layer ("sequences") or its last states, h_n of the top layer with
the directions side by side ("last"); L as above; the gradients are those
of every parameter, in that order.
"""
import json
import math

import torch
from torch import nn

torch.set_default_dtype(torch.float64)

B, T, F, H = 2, 4, 3, 5
GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}


def seq(n, phase, step, scale=1.0):
    return torch.tensor([scale * math.sin(phase + step * i) for i in range(n)])


def module(cell, bidirectional):
    kw = dict(input_size=F, hidden_size=H, batch_first=True, bidirectional=bidirectional)
    if cell == "lstm":
        return nn.LSTM(**kw)
    if cell == "gru":
        return nn.GRU(**kw)
    return nn.RNN(nonlinearity=cell[4:], **kw)


def weights(g, phase):
    """weight_ih, weight_hh, bias_ih, bias_hh as the Go test builds them."""
    return [
        seq(g * H * F, phase + 0.1, 0.37, 0.6).reshape(g * H, F),
        seq(g * H * H, phase + 0.2, 0.53, 0.5).reshape(g * H, H),
        seq(g * H, phase + 0.3, 0.71, 0.4),
        seq(g * H, phase + 0.4, 0.29, 0.4),
    ]


NAMES = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]


def case(cell, kind):
    """kind: "" (forward), "_reverse", "_bidirectional" or "_bidirectional_last"."""
    g = GATES[cell]
    m = module(cell, kind != "")
    # The reverse direction has weights(g, 0.0) in a _reverse case (it is
    # the one checked), weights(g, 1.0) in a _bidirectional one.
    with torch.no_grad():
        if kind == "_reverse":
            phases = {"": 1.0, "_reverse": 0.0}
        else:
            phases = {"": 0.0, "_reverse": 1.0} if kind else {"": 0.0}
        for suffix, phase in phases.items():
            for name, w in zip(NAMES, weights(g, phase)):
                getattr(m, name + suffix).copy_(w)
    x = seq(B * T * F, 0.2, 0.41, 1.5).reshape(B, T, F).requires_grad_(True)
    out, state = m(x)
    if kind == "_reverse":
        out = out[..., H:]
    if kind == "_bidirectional_last":
        h_n = state[0] if cell == "lstm" else state
        out = h_n.permute(1, 0, 2).reshape(B, 2 * H)
    loss = (out * seq(out.numel(), 0.5, 0.7).reshape(out.shape)).sum()
    loss.backward()
    suffixes = {"": [""], "_reverse": ["_reverse"]}.get(kind, ["", "_reverse"])
    params = [getattr(m, n + sfx) for sfx in suffixes for n in NAMES]
    return {
        "name": cell + kind,
        "out_shape": list(out.shape),
        "out": out.detach().flatten().tolist(),
        "grads": [t.grad.flatten().tolist() for t in [x] + params],
    }


LAYERS = [
    # name, dltrain layer, module, F, output
    ("lstm_2_layers_bidirectional_last", "{type: lstm, units: 3, layers: 2, bidirectional: true}",
     lambda: nn.LSTM(2, 3, num_layers=2, bidirectional=True, batch_first=True), 2, "last"),
    ("gru_2_layers_sequences", "{type: gru, units: 3, layers: 2, return_sequences: true}",
     lambda: nn.GRU(2, 3, num_layers=2, batch_first=True), 2, "sequences"),
    ("rnn_relu_3_layers_bidirectional_sequences", "{type: rnn, units: 2, layers: 3, bidirectional: true, activation: relu, return_sequences: true}",
     lambda: nn.RNN(3, 2, num_layers=3, bidirectional=True, nonlinearity="relu", batch_first=True), 3, "sequences"),
]


def layer_case(name, layer, make, f, output):
    m = make()
    params = list(m.parameters())
    with torch.no_grad():
        for k, p in enumerate(params):
            p.copy_(seq(p.numel(), 0.05 + 0.1 * k, 0.37, 0.5).reshape(p.shape))
    x = seq(B * T * f, 0.2, 0.41, 1.5).reshape(B, T, f)
    out, state = m(x)
    if output == "last":
        h_n = state[0] if isinstance(state, tuple) else state
        d = 2 if m.bidirectional else 1
        out = h_n[-d:].permute(1, 0, 2).reshape(B, -1)
    (out * seq(out.numel(), 0.5, 0.7).reshape(out.shape)).sum().backward()
    return {"name": name, "layer": layer, "features": f, "out_shape": list(out.shape),
            "out": out.detach().flatten().tolist(), "grads": [p.grad.flatten().tolist() for p in params]}


cases = [case(c, kind) for c in GATES for kind in ("", "_reverse", "_bidirectional", "_bidirectional_last")]
print(json.dumps({"torch": torch.__version__, "sizes": {"B": B, "T": T, "F": F, "H": H}, "cases": cases,
                  "layers": [layer_case(*c) for c in LAYERS]}))
