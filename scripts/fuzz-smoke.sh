#!/usr/bin/env bash
# Fuzzes each reader of user files for FUZZTIME (make fuzz-smoke).
#
# A finding fails at once: Go writes the input to testdata/fuzz/<target>/,
# and the test that replays it is shown. Once, in a CI run on a clean
# clone, FuzzReadIDX failed without writing any input, and replaying its
# corpus passed: a failure of the fuzzing engine itself, not of the code.
# Such a failure (no new input) is shown in full and the target is fuzzed
# once more; failing twice fails.
set -uo pipefail
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-3s}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
inputs() { find pkg/data/testdata/fuzz -type f 2>/dev/null | sort; }
for f in FuzzReadCSV FuzzReadIDX FuzzReadNpy FuzzTimeSplit; do
  for try in 1 2; do
    before=$(inputs)
    if "$GO" test ./pkg/data -run '^$' -fuzz "^$f\$" -fuzztime "$FUZZTIME" >"$log" 2>&1; then
      echo "$f: ok ($FUZZTIME)"
      break
    fi
    echo "$f failed (try $try):"
    tail -30 "$log"
    if [ "$(inputs)" != "$before" ]; then
      echo "$f found a failing input:"
      comm -13 <(echo "$before") <(inputs)
      "$GO" test ./pkg/data -run "^$f\$" 2>&1 | tail -20
      exit 1
    fi
    if [ "$try" = 2 ]; then
      exit 1
    fi
    echo "$f: no failing input was written (an engine failure); fuzzing it once more"
  done
done
