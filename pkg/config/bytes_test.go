package config

import (
	"strings"
	"testing"
)

// TestParseBytes reads decimal and binary units, any case, and plain
// numbers of bytes; anything else is an error saying what is expected.
func TestParseBytes(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		err  string
	}{
		{"", 0, ""},
		{"4GB", 4e9, ""},
		{"4 gb", 4e9, ""},
		{"512MiB", 512 << 20, ""},
		{"1.5GiB", 3 << 29, ""},
		{"2TB", 2e12, ""},
		{"100KB", 1e5, ""},
		{"1000000", 1e6, ""},
		{"4e+09", 4e9, ""},
		{"lots", 0, "expected a size such as 4GB"},
		{"4 GBytes", 0, "expected a size such as 4GB"},
		{"0", 0, "must be > 0"},
		{"-1GB", 0, "expected a size"},
		{"10000000TB", 0, "below 8 EiB"},
	} {
		got, err := ParseBytes(c.in)
		if got != c.want || (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d, %q", c.in, got, err, c.want, c.err)
		}
	}
	if got := FormatBytes(1.5e9); got != "1.5 GB" {
		t.Errorf("FormatBytes(1.5e9) = %q", got)
	}
}

// TestMaxMemoryIsValidated: a bad train.max_memory is a problem naming the
// key and its line.
func TestMaxMemoryIsValidated(t *testing.T) {
	_, err := Parse("exp.yaml", []byte("name: t\ndata: {source: builtin:iris}\nmodel: {layers: [{type: dense, units: 3}]}\ntrain:\n  max_memory: lots\n"), nil, nil)
	if err == nil || !strings.Contains(err.Error(), `exp.yaml:5:3: train.max_memory: expected a size such as 4GB, 512MiB or a number of bytes, got "lots"`) {
		t.Errorf("err = %v", err)
	}
	e, err := Parse("exp.yaml", []byte("name: t\ndata: {source: builtin:iris}\nmodel: {layers: [{type: dense, units: 3}]}\ntrain: {max_memory: 4000000000}\n"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := ParseBytes(e.Train.MaxMemory); n != 4e9 {
		t.Errorf("max_memory: 4000000000 reads as %d", n)
	}
}
