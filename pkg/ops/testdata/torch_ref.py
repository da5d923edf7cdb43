"""Reference values for dltrain's convolution, pooling, upsampling and normalization ops.

Run with PyTorch 1.13 (Debian's python3-torch):
    /usr/bin/python3 pkg/ops/testdata/torch_ref.py > pkg/ops/testdata/torch_ref.json

Every input is a deterministic formula of its flat index (see seq), so the
Go test (torch_ref_test.go) rebuilds the same tensors without this script.
For each case the file holds the output and the gradients of
L = sum(out * r) with r = seq(out.numel(), 0.5, 0.7) with respect to every
input, all in float64. The JSON keeps each case as it was first recorded and
new cases are appended to it: a re-run on another machine moves the
convolutions' last bits (by about 4e-16).
"""
import json
import math

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def seq(n, phase, step, scale=1.0):
    return torch.tensor([scale * math.sin(phase + step * i) for i in range(n)])


def tensor(shape, phase, step, scale=1.0):
    n = 1
    for d in shape:
        n *= d
    return seq(n, phase, step, scale).reshape(shape).requires_grad_(True)


def case(name, inputs, fn, extra=None):
    out = fn(*inputs)
    r = seq(out.numel(), 0.5, 0.7).reshape(out.shape)
    (out * r).sum().backward()
    c = {
        "name": name,
        "out_shape": list(out.shape),
        "out": out.detach().flatten().tolist(),
        "grads": [t.grad.flatten().tolist() if t.grad is not None else None for t in inputs],
    }
    if extra:
        c.update(extra())
    return c


cases = []

x = tensor((2, 3, 7, 6), 0.1, 0.37)
w = tensor((4, 3, 3, 2), 0.2, 0.23, 0.5)
b = tensor((4,), 0.3, 1.1)
cases.append(case("conv2d_stride2x1_pad1x2_dil1x2", [x, w, b],
                  lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2))))

x = tensor((1, 2, 5, 6), 0.4, 0.41)
w = tensor((3, 2, 4, 4), 0.5, 0.19, 0.5)
cases.append(case("conv2d_same_4x4_nobias", [x, w],
                  lambda x, w: F.conv2d(x, w, None, padding="same")))

x = tensor((2, 2, 11), 0.6, 0.29)
w = tensor((3, 2, 3), 0.7, 0.31, 0.5)
b = tensor((3,), 0.8, 0.9)
cases.append(case("conv1d_stride2_pad1_dil2", [x, w, b],
                  lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2)))



def pool_input():
    return tensor((2, 2, 7, 8), 0.9, 0.53)  # fresh each time: gradients accumulate


cases.append(case("maxpool2d_k3_s2_p1", [pool_input()], lambda x: F.max_pool2d(x, 3, stride=2, padding=1)))
cases.append(case("avgpool2d_k3_s2_p1_include_pad", [pool_input()],
                  lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=True)))
cases.append(case("avgpool2d_k3_s2_p1_exclude_pad", [pool_input()],
                  lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)))
cases.append(case("avgpool2d_k2", [pool_input()], lambda x: F.avg_pool2d(x, 2)))

x = tensor((4, 3, 2, 2), 1.0, 0.43, 2.0)
gamma = tensor((3,), 1.1, 0.7)
beta = tensor((3,), 1.2, 0.9)
rm = torch.tensor([0.1, -0.2, 0.3])
rv = torch.tensor([1.5, 0.5, 2.0])


def bn(x, g, b):
    return F.batch_norm(x, rm, rv, g, b, training=True, momentum=0.1, eps=1e-5)


def bn_extra():
    # rm and rv were updated by the training pass above; evaluate with them.
    with torch.no_grad():
        ev = F.batch_norm(x, rm, rv, gamma, beta, training=False, eps=1e-5)
    return {"running_mean": rm.tolist(), "running_var": rv.tolist(), "eval_out": ev.flatten().tolist()}


cases.append(case("batchnorm_train_4d", [x, gamma, beta], bn, bn_extra))

x = tensor((3, 2, 4), 1.3, 0.61, 3.0)
gamma = tensor((2, 4), 1.4, 0.5)
beta = tensor((2, 4), 1.5, 0.8)
cases.append(case("layernorm_last2", [x, gamma, beta], lambda x, g, b: F.layer_norm(x, (2, 4), g, b, eps=1e-5)))

x = tensor((2, 2, 3, 4), 1.6, 0.47)
cases.append(case("upsample2d_nearest_2x3", [x], lambda x: F.interpolate(x, scale_factor=(2, 3), mode="nearest")))

x = tensor((2, 3, 5), 1.7, 0.59)
cases.append(case("upsample1d_nearest_3", [x], lambda x: F.interpolate(x, scale_factor=3, mode="nearest")))

# Transposed convolutions: weights (in_channels, out_channels, kh, kw), as
# nn.ConvTranspose2d holds them.
x = tensor((2, 3, 4, 5), 1.8, 0.33)
w = tensor((3, 2, 3, 2), 1.9, 0.27, 0.5)
b = tensor((2,), 2.0, 1.3)
cases.append(case("conv_transpose2d_stride2x3_pad1x0_outpad1x2_dil2x1", [x, w, b],
                  lambda x, w, b: F.conv_transpose2d(x, w, b, stride=(2, 3), padding=(1, 0),
                                                     output_padding=(1, 2), dilation=(2, 1))))

x = tensor((1, 2, 3, 4), 2.1, 0.39)
w = tensor((2, 3, 3, 3), 2.2, 0.21, 0.5)
cases.append(case("conv_transpose2d_k3_nobias", [x, w], lambda x, w: F.conv_transpose2d(x, w, None)))

x = tensor((2, 2, 6), 2.3, 0.43)
w = tensor((2, 3, 4), 2.4, 0.17, 0.5)
b = tensor((3,), 2.5, 0.7)
cases.append(case("conv_transpose1d_stride2_pad1", [x, w, b],
                  lambda x, w, b: F.conv_transpose1d(x, w, b, stride=2, padding=1)))


# A conditional GAN's label embedding e [B, L] appended to x as L constant
# channels (concat_channels), and to flat features.
x = tensor((2, 3, 4, 5), 2.6, 0.31)
e = tensor((2, 2), 2.7, 0.9)
cases.append(case("concat_channels_maps_2x3x4x5_l2", [x, e],
                  lambda x, e: torch.cat([x, e[:, :, None, None].expand(-1, -1, 4, 5)], 1)))

x = tensor((3, 5), 2.8, 0.23)
e = tensor((3, 4), 2.9, 0.61)
cases.append(case("concat_channels_flat_3x5_l4", [x, e], lambda x, e: torch.cat([x, e], 1)))

print(json.dumps({"torch": torch.__version__, "cases": cases}))
