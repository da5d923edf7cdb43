#!/usr/bin/env bash
# The GAN acceptance protocol of issue 14 (docs/gans-judge.md, "Protocol"), one command:
# the issue's MLP GAN trained on the 8,000 digits at training seeds SEEDS (default 1-5) in
# dltrain (configs/mnist-gan.yaml, model.init torch_linear) and in PyTorch 1.13
# (bench/gan_mnist_torch.py), 1,000 samples each (sample seed = training seed + 1 on both
# sides), all judged by the same dltrain LeNet; prints one row per run and the means.
# Needs bin/dltrain (make build), /usr/bin/python3 with torch and Pillow, and the data and
# judge of bench/gan/bench.sh (the judge is trained here when bench/gan/runs holds none).
# Usage: bench/gan/seeds.sh [SEEDS...]   Results: bench/gan/out/seeds/ and seeds.tsv there.
# Variations (not the protocol; each keeps its own results): GAN_SETS="k=v ..." adds --set
# flags to the dltrain side, SIDES="dltrain" runs one side only, OUT=DIR writes there, e.g.
#   OUT=bench/gan/out/seeds-bias SIDES=dltrain GAN_SETS=model.bias_init=torch_linear bench/gan/seeds.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
D=$PWD/bench/gan/data
SEEDS=("$@")
[ ${#SEEDS[@]} -gt 0 ] || SEEDS=(1 2 3 4 5)
bench/gan/prepare_mnist8k.sh "$D"
if ! ls -d bench/gan/runs/mnist8k-lenet-judge/*/ >/dev/null 2>&1; then
	bin/dltrain train --config configs/mnist8k-lenet-judge.yaml --out bench/gan/runs \
		--set data.source=idx:$D/train8k-images-idx3-ubyte.gz,$D/train8k-labels-idx1-ubyte.gz,$D/t10k-images-idx3-ubyte.gz,$D/t10k-labels-idx1-ubyte.gz
fi
JUDGE=$(ls -d bench/gan/runs/mnist8k-lenet-judge/*/ | tail -n 1)
O=${OUT:-bench/gan/out/seeds}
SIDES=${SIDES:-dltrain torch}
EXTRA=()
for kv in ${GAN_SETS:-}; do EXTRA+=(--set "$kv"); done
mkdir -p "$O"
row() { # side seed judge.json seconds
	/usr/bin/python3 -c 'import json,sys
s=json.load(open(sys.argv[3]))["samples"]
print("\t".join([sys.argv[1], sys.argv[2], "%.4f" % s["confident_share"], str(s["coverage"]), sys.argv[4]]))' "$@" | tee -a "$O/seeds.tsv"
}
printf 'side\tseed\tconfident_share\tcoverage\ttrain_s\n' >"$O/seeds.tsv"
for s in "${SEEDS[@]}"; do
	[[ " $SIDES " == *" dltrain "* ]] || break
	t0=$SECONDS
	bin/dltrain train --config configs/mnist-gan.yaml --out "$O/dltrain-$s" \
		--set seed=$s --set model.init=torch_linear --set data.source=idx:$D/train8k-images-idx3-ubyte.gz ${EXTRA[@]+"${EXTRA[@]}"} >"$O/dltrain-$s.log" 2>&1
	t=$((SECONDS - t0))
	GAN=$(ls -d "$O/dltrain-$s"/mnist-gan/*/ | tail -n 1)
	bin/dltrain eval --run "$GAN" --judge "$JUDGE" --n 1000 --seed $((s + 1)) --output "$O/dltrain-$s-judge.json" >>"$O/dltrain-$s.log" 2>&1
	row dltrain "$s" "$O/dltrain-$s-judge.json" "$t"
done
for s in "${SEEDS[@]}"; do
	[[ " $SIDES " == *" torch "* ]] || break
	t0=$SECONDS
	/usr/bin/python3 bench/gan_mnist_torch.py --data "$D" --out "$O/torch-$s" --seed "$s" >"$O/torch-$s.log" 2>&1
	t=$((SECONDS - t0))
	bin/dltrain eval --judge "$JUDGE" --samples "$O/torch-$s/torch_samples.npy" --output "$O/torch-$s-judge.json" >>"$O/torch-$s.log" 2>&1
	row torch "$s" "$O/torch-$s-judge.json" "$t"
done
/usr/bin/python3 -c 'import csv,sys
rows=list(csv.DictReader(open(sys.argv[1]),delimiter="\t"))
for side in ("dltrain","torch"):
    r=[x for x in rows if x["side"]==side]
    if r: print("%s: mean confident share %.4f over %d seeds, coverage %s" % (side, sum(float(x["confident_share"]) for x in r)/len(r), len(r), " ".join(x["coverage"] for x in r)))' "$O/seeds.tsv"
