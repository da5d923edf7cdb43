# Reference values of the GAN loss terms for pkg/train/gan_loss_test.go (PyTorch 1.13):
# /usr/bin/python3 pkg/train/testdata/torch_gan.py prints the torchGAN map's entries.
import torch, torch.nn.functional as F, json
s = torch.tensor([-3.1, -0.7, 0.2, 0.45, 1.6, 4.2], dtype=torch.float64)
r = {
 "bce_real": F.binary_cross_entropy_with_logits(s, torch.ones_like(s)).item(),
 "bce_real_smooth": F.binary_cross_entropy_with_logits(s, torch.full_like(s, 0.9)).item(),
 "bce_fake": F.binary_cross_entropy_with_logits(s, torch.zeros_like(s)).item(),
 "bce_gen": F.binary_cross_entropy_with_logits(s, torch.ones_like(s)).item(),
 "hinge_real": F.relu(1 - s).mean().item(),
 "hinge_fake": F.relu(1 + s).mean().item(),
 "hinge_gen": (-s).mean().item(),
}
for k, v in r.items(): print('\t"%s": %s,' % (k, repr(v)))
