#!/bin/sh
# Class accuracy of the conditional GAN, dltrain against PyTorch 1.13 (docs/gans.md, "Conditional
# GANs"): configs/mnist-cgan.yaml on the 8,000 digits and bench/gan/cgan_mnist_torch.py, the same
# architecture and budget, each asked for N samples of every class; the dltrain judge (a LeNet on
# the same digits, bench/gan/README.md step 2) scores each class's samples. A class's accuracy is
# the share of its samples the judge puts in it; "confident" also needs top probability > 0.9.
# Usage, from the repository root after `make build` and bench/gan/prepare_mnist8k.sh:
#   bench/gan/cgan_compare.sh JUDGE_RUN [SEED] [N]
# Writes bench/gan/out/cgan/ (ignored) and prints one row per class and side.
set -eu
JUDGE=$1
SEED=${2:-1}
N=${3:-100}
D=$PWD/bench/gan/data
OUT=bench/gan/out/cgan/seed$SEED
mkdir -p "$OUT"
bin/dltrain train --config configs/mnist-cgan.yaml --out bench/gan/runs/cgan-seed$SEED --set seed=$SEED \
  --set data.source=idx:$D/train8k-images-idx3-ubyte.gz,$D/train8k-labels-idx1-ubyte.gz >"$OUT/dltrain-train.log" 2>&1
GAN=$(ls -d bench/gan/runs/cgan-seed$SEED/mnist-cgan/*/ | tail -n 1)
/usr/bin/python3 bench/gan/cgan_mnist_torch.py --data "$D" --out "$OUT" --seed "$SEED" --n "$N" >"$OUT/torch-train.log" 2>&1
for c in 0 1 2 3 4 5 6 7 8 9; do
  bin/dltrain sample --run "$GAN" --n "$N" --seed 2 --class $c --output "$OUT/dltrain_cgan_class$c.npy" 2>/dev/null
  for side in dltrain torch; do
    bin/dltrain eval --judge "$JUDGE" --samples "$OUT/${side}_cgan_class$c.npy" --json \
      --output "$OUT/${side}_judge_class$c.json" >/dev/null 2>&1
  done
done
/usr/bin/python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
tot = {}
print("side     class  accuracy  confident")
for side in ("dltrain", "torch"):
    acc = conf = 0.0
    for c in range(10):
        r = json.load(open(f"{out}/{side}_judge_class{c}.json"))["samples"]
        k = r["classes"][c]
        a, f = k["count"] / r["n"], k["confident"] / r["n"]
        acc, conf = acc + a / 10, conf + f / 10
        print(f"{side:8} {c:5}  {a:8.3f}  {f:9.3f}")
    print(f"{side:8} mean   {acc:8.3f}  {conf:9.3f}")
PY
