#!/usr/bin/env bash
# Tests scripts/fuzz-smoke.sh with a fake go command in a scratch
# directory: an engine failure that writes no input is fuzzed again and
# passes; a failure that writes an input fails at once; a target failing
# twice fails. Run by make test.
set -euo pipefail
script=$(cd "$(dirname "$0")" && pwd)/fuzz-smoke.sh
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
mkdir -p pkg/data/testdata/fuzz

# fake go: $MODE decides what the first fuzz of FuzzReadIDX does.
cat >fakego <<'FAKE'
#!/usr/bin/env bash
if [[ "$*" != *-fuzz* ]]; then echo "replayed"; exit 1; fi
if [[ "$*" == *FuzzReadIDX* ]]; then
  n=$(cat count 2>/dev/null || echo 0); echo $((n + 1)) >count
  case "$MODE" in
    engine) [ "$n" = 0 ] && { echo "fuzzing process hung or terminated unexpectedly"; exit 1; } ;;
    finding) mkdir -p pkg/data/testdata/fuzz/FuzzReadIDX; echo x >pkg/data/testdata/fuzz/FuzzReadIDX/abc; exit 1 ;;
    always) echo "engine trouble"; exit 1 ;;
  esac
fi
exit 0
FAKE
chmod +x fakego

check() { # mode, expected exit code, expected text
  rm -rf count pkg/data/testdata/fuzz/FuzzReadIDX
  set +e
  out=$(MODE=$1 GO=./fakego "$script" 2>&1)
  rc=$?
  set -e
  if [ "$rc" != "$2" ] || [[ "$out" != *"$3"* ]]; then
    echo "fuzz-smoke_test: mode $1: exit $rc (want $2), output:"; echo "$out"; exit 1
  fi
}
check engine 0 "FuzzReadIDX: ok"
check finding 1 "FuzzReadIDX found a failing input:"
check always 1 "FuzzReadIDX failed (try 2):"
[ "$(cat count)" = 2 ] || { echo "fuzz-smoke_test: a failing target was fuzzed $(cat count) times, want 2"; exit 1; }
echo "fuzz-smoke_test: ok"
