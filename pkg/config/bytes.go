package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// byteUnits are the suffixes ParseBytes takes: decimal (KB = 1000) and
// binary (KiB = 1024) multiples, in either case.
var byteUnits = map[string]float64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// ParseBytes reads a size such as "4GB", "512 MiB", "1.5gb" or "1000000"
// (bytes) into bytes; "" is 0, meaning no size given.
func ParseBytes(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "" {
		return 0, nil
	}
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' && r != 'e' && r != '+' })
	if i < 0 {
		i = len(t)
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	// "1e9" reads as a number; "1eb" would not be a unit.
	v, err := strconv.ParseFloat(num, 64)
	mul, ok := byteUnits[unit]
	switch {
	case err != nil || !ok:
		return 0, fmt.Errorf("expected a size such as 4GB, 512MiB or a number of bytes, got %q", s)
	case !(v > 0) || v*mul >= math.MaxInt64:
		return 0, fmt.Errorf("must be > 0 and below 8 EiB, got %q", s)
	}
	return int64(v * mul), nil
}

// FormatBytes writes a size for messages: 1.5 GB, 12 MB, 800 B (decimal
// units, as ParseBytes reads them).
func FormatBytes(b float64) string {
	for _, u := range []struct {
		name string
		size float64
	}{{"EB", 1e18}, {"PB", 1e15}, {"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}} {
		if b >= u.size {
			return strconv.FormatFloat(b/u.size, 'f', 1, 64) + " " + u.name
		}
	}
	return fmt.Sprintf("%.0f B", b)
}
