#!/usr/bin/env bash
# The GAN acceptance experiment of issue 14, PyTorch side and judge (make bench-gan):
#   1. the data: 8,000 MNIST training digits and the 10,000 t10k digits (prepare_mnist8k.sh);
#   2. the judge: configs/mnist8k-lenet-judge.yaml trained on the 8,000 (t10k as its test split);
#   3. the PyTorch MLP GAN (bench/gan_mnist_torch.py), 30 epochs, 1,000 samples;
#   4. dltrain eval --judge on the PyTorch samples.
# Then the dltrain GAN (after the GAN work is merged), judged by the same run: see README.md.
# Needs bin/dltrain (make build), go, /usr/bin/python3 with torch and Pillow.
set -euo pipefail
cd "$(dirname "$0")/../.."
D=$PWD/bench/gan/data
bench/gan/prepare_mnist8k.sh "$D"
bin/dltrain train --config configs/mnist8k-lenet-judge.yaml --out bench/gan/runs \
	--set data.source=idx:$D/train8k-images-idx3-ubyte.gz,$D/train8k-labels-idx1-ubyte.gz,$D/t10k-images-idx3-ubyte.gz,$D/t10k-labels-idx1-ubyte.gz
JUDGE=$(ls -d bench/gan/runs/mnist8k-lenet-judge/*/ | tail -n 1)
/usr/bin/python3 bench/gan_mnist_torch.py --data "$D" --out bench/gan/out
bin/dltrain eval --judge "$JUDGE" --samples bench/gan/out/torch_samples.npy --output bench/gan/out/torch_judge.json
echo "judge: $JUDGE"
