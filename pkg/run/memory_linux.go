package run

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

// availableMemory is the memory this process may still use, in bytes, and
// where the figure comes from: MemAvailable in /proc/meminfo, or less
// where a cgroup (a container) limits the memory (memory.max less
// memory.current, cgroup v2). 0 when neither can be read.
func availableMemory() (int64, string) {
	avail, source := int64(0), ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) >= 2 && f[0] == "MemAvailable:" {
				if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
					avail, source = kb*1024, "MemAvailable in /proc/meminfo"
				}
			}
		}
	}
	limit, lerr := readInt("/sys/fs/cgroup/memory.max")
	used, uerr := readInt("/sys/fs/cgroup/memory.current")
	if lerr == nil && uerr == nil && limit > used && (avail == 0 || limit-used < avail) {
		avail, source = limit-used, "the cgroup's memory.max less memory.current"
	}
	return avail, source
}

// readInt reads a file holding one integer ("max" is not one).
func readInt(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}
