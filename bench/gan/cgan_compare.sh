#!/usr/bin/env bash
# The conditional GAN against PyTorch 1.13 (docs/gans.md, "Conditional GANs", its protocol):
# configs/mnist-cgan.yaml on the 8,000 digits and bench/gan/cgan_mnist_torch.py (the same
# architecture, budget and step procedure), at training seeds SEEDS (default 1-5), each asked
# for N samples of every class (sample seed = training seed + 1 on both sides), all scored by
# one dltrain judge (a LeNet on the same digits, bench/gan/README.md step 2).
# Per run: the class accuracy (the share of class c's samples the judge puts in c, averaged over
# the classes), the share also confident (top p > 0.9), the confident share and the coverage
# (classes holding >= 5% of the 10 N samples, by the judge's top class) of all samples, the
# last epoch's D(real) and D(fake), the training seconds. Then each side's mean (sd).
# Usage, from the repository root after `make build` and bench/gan/prepare_mnist8k.sh:
#   bench/gan/cgan_compare.sh [SEEDS...]
# Settings (environment):
#   JUDGE=RUN       the judge run (default: the newest under bench/gan/runs/mnist8k-lenet-judge)
#   N=100           samples per class
#   OUT=DIR         where runs and results go (default bench/gan/out/cgan; ignored by git)
#   SIDES="dltrain torch"   the sides to run
#   GAN_SETS="k=v ..."      --set flags of the dltrain side (default: PyTorch's initialisation,
#                           model.init=torch_linear model.bias_init=torch_linear)
#   TORCH_ARGS="..."        more flags of cgan_mnist_torch.py (--g-step reuse, --init ...)
# Each run's row goes to OUT/SIDE-SEED.tsv, so two invocations (other seeds or sides, the same
# OUT) may run at once; the summary at the end reads every row in OUT (OUT/summary.txt).
set -euo pipefail
cd "$(dirname "$0")/../.."
D=$PWD/bench/gan/data
SEEDS=("$@")
[ ${#SEEDS[@]} -gt 0 ] || SEEDS=(1 2 3 4 5)
JUDGE=${JUDGE:-$(ls -d bench/gan/runs/mnist8k-lenet-judge/*/ | tail -n 1)}
N=${N:-100}
O=${OUT:-bench/gan/out/cgan}
SIDES=${SIDES:-dltrain torch}
GAN_SETS=${GAN_SETS-model.init=torch_linear model.bias_init=torch_linear}
EXTRA=()
for kv in $GAN_SETS; do EXTRA+=(--set "$kv"); done
mkdir -p "$O"
{
	echo "judge: $JUDGE; $N samples per class; dltrain sets: ${GAN_SETS:-none}; torch args: ${TORCH_ARGS:-none}"
} >"$O/settings-$$.txt"

# row SIDE SEED DIR SECONDS LOGFILE: one TSV row from the 10 judge files DIR/SIDE_judge_classC.json
# and the last epoch's D(real), D(fake) (dltrain: metrics.csv; torch: torch_cgan.json).
row() {
	/usr/bin/python3 - "$@" <<'PY'
import csv, json, sys
side, seed, d, secs, epochs = sys.argv[1:6]
acc = right = conf = 0.0
pooled, total = [0] * 10, 0
for c in range(10):
    r = json.load(open(f"{d}/{side}_judge_class{c}.json"))["samples"]
    n = r["n"]
    acc += r["classes"][c]["count"] / n / 10
    right += r["classes"][c]["confident"] / n / 10
    for k, h in enumerate(r["classes"]):
        pooled[k] += h["count"]
        conf += h["confident"]
    total += n
coverage = sum(1 for p in pooled if p >= 0.05 * total)
if side == "dltrain":
    last = list(csv.DictReader(open(epochs)))[-1]
else:
    last = json.load(open(epochs))["epochs_log"][-1]
print("\t".join([side, seed, f"{acc:.4f}", f"{right:.4f}", f"{conf / total:.4f}", str(coverage),
                 f"{float(last['d_real']):.3f}", f"{float(last['d_fake']):.3f}", secs]))
PY
}

judge() { # SIDE DIR: the judge's scores of each class's samples
	for c in 0 1 2 3 4 5 6 7 8 9; do
		bin/dltrain eval --judge "$JUDGE" --samples "$2/$1_cgan_class$c.npy" --json \
			--output "$2/$1_judge_class$c.json" >/dev/null 2>>"$2/judge.log" || {
			tail -n 5 "$2/judge.log" >&2
			exit 1
		}
	done
}

for s in "${SEEDS[@]}"; do
	for side in $SIDES; do
		R=$O/$side-$s
		rm -rf "$R"
		mkdir -p "$R"
		t0=$SECONDS
		case $side in
		dltrain)
			bin/dltrain train --config configs/mnist-cgan.yaml --out "$R/runs" --set seed="$s" \
				--set data.source=idx:$D/train8k-images-idx3-ubyte.gz,$D/train8k-labels-idx1-ubyte.gz \
				${EXTRA[@]+"${EXTRA[@]}"} >"$R/train.log" 2>&1
			t=$((SECONDS - t0))
			GAN=$(ls -d "$R"/runs/mnist-cgan/*/ | tail -n 1)
			for c in 0 1 2 3 4 5 6 7 8 9; do
				bin/dltrain sample --run "$GAN" --n "$N" --seed $((s + 1)) --class $c \
					--output "$R/dltrain_cgan_class$c.npy" >>"$R/train.log" 2>&1
			done
			epochs=$GAN/metrics.csv
			;;
		torch)
			# shellcheck disable=SC2086 # TORCH_ARGS is a list of flags
			/usr/bin/python3 bench/gan/cgan_mnist_torch.py --data "$D" --out "$R" --seed "$s" --n "$N" \
				${TORCH_ARGS:-} >"$R/train.log" 2>&1
			t=$((SECONDS - t0))
			epochs=$R/torch_cgan.json
			;;
		*)
			echo "cgan_compare: unknown side $side (dltrain or torch)" >&2
			exit 2
			;;
		esac
		judge "$side" "$R"
		row "$side" "$s" "$R" "$t" "$epochs" | tee "$O/$side-$s.tsv"
	done
done

/usr/bin/python3 - "$O" <<'PY' | tee "$O/summary.txt"
import glob, statistics as st, sys
cols = ["side", "seed", "class_accuracy", "confident_right", "confident_share", "coverage", "d_real", "d_fake", "train_s"]
rows = []
for f in sorted(glob.glob(sys.argv[1] + "/*-*.tsv")):
    rows += [dict(zip(cols, l.split("\t"))) for l in open(f).read().splitlines() if l]
print("\t".join(cols))
for r in sorted(rows, key=lambda r: (r["side"], int(r["seed"]))):
    print("\t".join(r[c] for c in cols))
for side in ("dltrain", "torch"):
    rs = [r for r in rows if r["side"] == side]
    if not rs:
        continue
    def ms(c):
        v = [float(r[c]) for r in rs]
        return f"{st.mean(v):.3f} ({st.stdev(v) if len(v) > 1 else 0:.3f})"
    print(f"{side}: {len(rs)} seeds; mean (sd) class accuracy {ms('class_accuracy')}, confident and right "
          f"{ms('confident_right')}, confident share {ms('confident_share')}; coverage "
          + " ".join(r["coverage"] for r in sorted(rs, key=lambda r: int(r["seed"]))))
PY
