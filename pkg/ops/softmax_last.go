package ops

import G "gorgonia.org/gorgonia"

// Softmax normalizes the last axis of x, of any rank ≥ 1, into
// probabilities, as PyTorch's F.softmax(x, dim=−1): [B, H, T, T] attention
// scores give each query's weights over the keys. It subtracts each row's
// maximum before exponentiating, so large logits do not overflow, and a
// row holding −Inf (a masked key, see MaskedFill and AddMask) gives that
// position 0. The gradient is y ⊙ (dy − Σ dy⊙y) row by row, from the
// output y; it is the kernel Activate(x, "softmax", 0) uses.
func Softmax(x *G.Node) (*G.Node, error) { return Apply(softmax{}, nil, x) }
