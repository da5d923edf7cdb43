#!/bin/sh
# Test cross-entropy of the character language models of configs/ (LSTM, GRU, decoder-only
# Transformer) in dltrain and in PyTorch 1.13 (bench/char_lm_torch.py) with the same
# architecture, data, split and budget, on the full text of Newton's Opticks that ships with
# Go ($(go env GOROOT)/src/testdata/Isaac.Newton-Opticks.txt, 567 kB, public domain).
#
# Usage: bench/char_lm_compare.sh [MODEL...]      (default: lstm gru transformer)
# Environment: EPOCHS (4, the configs'), SEED (1), TEXT (the full Opticks), BIN (bin/dltrain,
# built when missing), PYTHON (/usr/bin/python3), THREADS (PyTorch's threads, 1), OUT (a
# temporary directory for dltrain's runs).
#
# Prints one row per model: dltrain's test cross-entropy (report.json's loss: the best
# checkpoint by val_loss on the test windows), PyTorch's, and dltrain's relative to PyTorch's.
set -eu
cd "$(dirname "$0")/.."
EPOCHS=${EPOCHS:-4}
SEED=${SEED:-1}
TEXT=${TEXT:-$(go env GOROOT)/src/testdata/Isaac.Newton-Opticks.txt}
BIN=${BIN:-bin/dltrain}
PYTHON=${PYTHON:-/usr/bin/python3}
THREADS=${THREADS:-1}
OUT=${OUT:-$(mktemp -d)}
[ -x "$BIN" ] || go build -o "$BIN" ./cmd/dltrain
models=${*:-lstm gru transformer}

printf '%-12s %8s %10s %10s %8s %10s %10s\n' model epochs dltrain pytorch ratio dltrain_s pytorch_s
for m in $models; do
	start=$(date +%s)
	"$BIN" train --config "configs/opticks-char-$m.yaml" --out "$OUT" \
		--set "data.source=text:$TEXT" --set "train.epochs=$EPOCHS" --set "seed=$SEED" \
		--set "data.prepared=$OUT/prepared-$m" >"$OUT/$m.log" 2>&1
	mid=$(date +%s)
	run=$(ls -d "$OUT/opticks-char-$m"/* | tail -n 1)
	go_ce=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["loss"])' "$run/report.json")
	"$PYTHON" bench/char_lm_torch.py --model "$m" --text "$TEXT" --epochs "$EPOCHS" --seed "$SEED" \
		--threads "$THREADS" >"$OUT/$m-torch.json"
	end=$(date +%s)
	pt_ce=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["test_cross_entropy"])' "$OUT/$m-torch.json")
	"$PYTHON" -c 'import sys; m, e, g, p, a, b = sys.argv[1:]; print("%-12s %8s %10.4f %10.4f %8.4f %10s %10s" % (m, e, float(g), float(p), float(g) / float(p), a, b))' \
		"$m" "$EPOCHS" "$go_ce" "$pt_ce" $((mid - start)) $((end - mid))
done
echo "runs and logs: $OUT"
