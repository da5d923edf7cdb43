"""Reference values for truncated backpropagation through time in
dltrain's fused recurrent op (ops.RecurrentWeights.Truncate).

Run with PyTorch 1.13 (Debian's python3-torch):
    /usr/bin/python3 pkg/ops/testdata/torch_ref_tbptt.py > pkg/ops/testdata/torch_ref_tbptt.json

Truncated BPTT with chunks of K steps is PyTorch's usual loop: run the
module over steps [0, K), detach the state, run it over [K, 2K) from the
detached state, and so on. A reverse direction is the same loop over the
sequence read backwards (x.flip(1)), its outputs put back in time order,
so that its chunks start at the last step, as dltrain reads it. Each
direction is its own unidirectional module (nn.RNN tanh, nn.LSTM, nn.GRU,
batch_first); a bidirectional case concatenates the two directions'
outputs. A "_last" case's output is each direction's last state (the
forward direction's after step T-1, the reverse one's after reading
step 0), side by side. Inputs are seq() formulas of the flat index, as
torch_ref_rnn.py's, with B, T, F, H = 2, 5, 3, 4; the loss is
L = sum(out * r), r = seq(out.numel(), 0.5, 0.7); the case holds the
output and the gradients of x, then of each direction's weight_ih,
weight_hh, bias_ih and bias_hh, in float64.

"layers" are whole stacked layers as dltrain configures them with
`truncate: K` (pkg/models): a num_layers module run by the same loop (the
states of every layer detached between chunks, which is dltrain's
truncation of each stacked layer, since the chunks line up), its k-th
parameter in named_parameters() order set to seq(n, 0.05 + 0.1k, 0.37,
0.5), on x = seq(B*T*F, 0.2, 0.41, 1.5); the output every step of the top
layer ("sequences") or its last state ("last"); the gradients those of
every parameter.
"""
import json
import math

import torch
from torch import nn

torch.set_default_dtype(torch.float64)

B, T, F, H = 2, 5, 3, 4
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


def module(cell, phase):
    g = GATES[cell]
    kw = dict(input_size=F, hidden_size=H, batch_first=True)
    m = {"lstm": nn.LSTM, "gru": nn.GRU}.get(cell, lambda **k: nn.RNN(nonlinearity="tanh", **k))(**kw)
    with torch.no_grad():
        for name, w in zip(NAMES, weights(g, phase)):
            getattr(m, name).copy_(w)
    return m


def detach(state):
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def truncated(m, x, k):
    """Every step's state of m over x, BPTT truncated to chunks of k."""
    outs, state = [], None
    for i in range(0, x.shape[1], k):
        out, state = m(x[:, i:i + k], state)
        outs.append(out)
        state = detach(state)
    return torch.cat(outs, 1)


def case(cell, kind, k):
    dirs = {"": [False], "_reverse": [True]}.get(kind, [False, True])
    mods = [module(cell, float(i)) for i in range(len(dirs))]
    x = seq(B * T * F, 0.2, 0.41, 1.5).reshape(B, T, F).requires_grad_(True)
    outs = []
    for m, rev in zip(mods, dirs):
        if rev:
            outs.append(truncated(m, x.flip(1), k).flip(1))
        else:
            outs.append(truncated(m, x, k))
    if kind.endswith("_last"):
        outs = [o[:, 0] if rev else o[:, -1] for o, rev in zip(outs, dirs)]
    out = torch.cat(outs, -1)
    loss = (out * seq(out.numel(), 0.5, 0.7).reshape(out.shape)).sum()
    loss.backward()
    params = [getattr(m, n) for m in mods for n in NAMES]
    return {
        "name": f"{cell}{kind}_k{k}",
        "out_shape": list(out.shape),
        "out": out.detach().flatten().tolist(),
        "grads": [t.grad.flatten().tolist() for t in [x] + params],
    }


LAYERS = [
    # name, dltrain layer, module, K, output
    ("lstm_2_layers_truncate_2_sequences", "{type: lstm, units: 3, layers: 2, truncate: 2, return_sequences: true}",
     lambda: nn.LSTM(F, 3, num_layers=2, batch_first=True), 2, "sequences"),
    ("gru_2_layers_truncate_3_last", "{type: gru, units: 3, layers: 2, truncate: 3}",
     lambda: nn.GRU(F, 3, num_layers=2, batch_first=True), 3, "last"),
]


def layer_case(name, layer, make, k, output):
    m = make()
    params = list(m.parameters())
    with torch.no_grad():
        for i, p in enumerate(params):
            p.copy_(seq(p.numel(), 0.05 + 0.1 * i, 0.37, 0.5).reshape(p.shape))
    x = seq(B * T * F, 0.2, 0.41, 1.5).reshape(B, T, F)
    out = truncated(m, x, k)
    if output == "last":
        out = out[:, -1]
    (out * seq(out.numel(), 0.5, 0.7).reshape(out.shape)).sum().backward()
    return {"name": name, "layer": layer, "features": F, "out_shape": list(out.shape),
            "out": out.detach().flatten().tolist(), "grads": [p.grad.flatten().tolist() for p in params]}


cases = [case(c, kind, k) for c in GATES for kind in ("", "_reverse", "_bidirectional", "_bidirectional_last") for k in (1, 2, 3)]
print(json.dumps({"torch": torch.__version__, "sizes": {"B": B, "T": T, "F": F, "H": H}, "cases": cases,
                  "layers": [layer_case(*c) for c in LAYERS]}))
