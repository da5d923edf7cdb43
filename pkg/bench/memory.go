package bench

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
)

// memory reads the process's resident set size from /proc/self/status
// (Linux): the current size (VmRSS) and the peak (VmHWM), in bytes. Where
// /proc is missing it falls back to getrusage's peak for both.
func memory() (rss, peak int64) {
	text, err := os.ReadFile("/proc/self/status")
	if err != nil {
		peak = maxRSS()
		return peak, peak
	}
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case bytes.HasPrefix(line, []byte("VmRSS:")):
			rss = kilobytes(line)
		case bytes.HasPrefix(line, []byte("VmHWM:")):
			peak = kilobytes(line)
		}
	}
	return rss, peak
}

func kilobytes(line []byte) int64 {
	f := bytes.Fields(line)
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.ParseInt(string(f[1]), 10, 64)
	return n * 1024
}

// resetPeak restarts the peak RSS count (Linux ≥ 4.0), so that each
// workload reports its own peak; where that is not allowed the peak stays
// the process's.
func resetPeak() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}
