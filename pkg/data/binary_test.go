package data

import (
	"errors"
	"strings"
	"syscall"
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestBinaryAsText (issue 16, item 7): a binary file given as a csv, tsv
// or series source is refused as binary, naming the file and what it
// looks like, instead of being read as a table with one strange column;
// and the error holds no raw control byte or invalid UTF-8.
func TestBinaryAsText(t *testing.T) {
	elf := "\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00>\x00\x01\x00\x00\x00" + strings.Repeat("\x00\x40\x1b", 200)
	random := make([]byte, 2048)
	for i := range random { // a fixed byte soup without NULs
		random[i] = byte(1 + (i*131+i*i*7)%255)
	}
	for _, tc := range []struct {
		name, source, text string
		want               []string
	}{
		{"ELF executable", "csv:data.csv", elf, []string{"data.csv", "binary", "an ELF executable"}},
		{"NUL byte", "csv:data.csv", "a,b,y\n1,2\x00,0\n", []string{"data.csv:2", "binary", "a NUL byte at byte 10"}},
		{"byte soup", "csv:data.csv", string(random), []string{"data.csv", "binary"}},
		{"gzip", "csv:data.csv", "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + strings.Repeat("\x01\x02\x03\xff", 30), []string{"data.csv", "gzip"}},
		{"npy", "csv:data.csv", "\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", []string{"data.csv", "npy:"}},
		{"idx", "csv:data.csv", "\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00\x1c\x00\x00\x00\x1c", []string{"data.csv", "idx:"}},
		{"png", "csv:data.csv", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", []string{"data.csv", "PNG"}},
		{"UTF-16", "csv:data.csv", "\xff\xfea\x00,\x00b\x00,\x00y\x00\n\x001\x00,\x002\x00,\x000\x00\n\x00", []string{"data.csv", "UTF-16", "UTF-8"}},
		{"control characters", "csv:data.csv", "a,b,y\n1,2,0\n\x01\x02\x03,\x04,\x05\n", []string{"data.csv", "control character"}},
		{"tsv", "tsv:data.csv", elf, []string{"data.csv", "binary"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config := strings.Replace(csvConfig, "csv:data.csv", tc.source, 1)
			_, _, err := load(t, config, map[string]string{"data.csv": tc.text})
			wantBadData(t, err, tc.want...)
			if err != nil {
				noRawBytes(t, err.Error())
			}
		})
	}
	// Text in a legacy 8-bit encoding (Latin-1 "é" is one byte, invalid
	// UTF-8) is text, not binary: it still loads.
	ds, _ := mustLoad(t, strings.Replace(csvConfig, "label: y", "label: y\n  categorical: [c]", 1),
		map[string]string{"data.csv": "a,c,y\n1,caf\xe9,0\n2,th\xe9,1\n3,caf\xe9,0\n4,th\xe9,1\n"})
	if ds.Train.N+ds.Val.N+ds.Test.N != 4 {
		t.Errorf("Latin-1 CSV: %d rows", ds.Train.N+ds.Val.N+ds.Test.N)
	}
}

// TestBinarySeries: a series source reads delimited text too.
func TestBinarySeries(t *testing.T) {
	_, _, err := load(t, "name: t\ndata:\n  source: series:s.csv\n  task: forecasting\n  targets: [v]\n",
		map[string]string{"s.csv": "\x00\x01\x02binary" + strings.Repeat("\x00", 50)})
	wantBadData(t, err, "s.csv", "binary")
}

// TestPrintable: control characters and invalid UTF-8 are escaped as Go
// quoting would; printable text (any script), newlines and tabs are kept.
func TestPrintable(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text, é, 日本", "plain text, é, 日本"},
		{"two\nlines\tand a tab", "two\nlines\tand a tab"},
		{"nul\x00bell\x07esc\x1b[31m", `nul\x00bell\aesc\x1b[31m`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`},
		{"del\x7f c1\u0085", `del\x7f c1\u0085`},
		{"cr\r", `cr\r`},
	} {
		if got := Printable(tc.in); got != tc.want {
			t.Errorf("Printable(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// noRawBytes fails when s holds a byte a terminal would interpret: a
// control character other than newline and tab, or invalid UTF-8.
func noRawBytes(t *testing.T, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("message holds invalid UTF-8: %q", s)
	}
	for _, r := range s {
		if r != '\n' && r != '\t' && (unicode.IsControl(r) || r == utf8.RuneError) {
			t.Errorf("message holds the raw control character %U: %q", r, s)
			return
		}
	}
}

// TestErrorKeepsTheSystemCause (issue 16, item 10): a data error caused by
// the machine (a file that cannot be read: permission denied, an I/O
// error) is bad data and still holds the system's error, so the command
// can exit 5 (an environment failure) rather than 2.
func TestErrorKeepsTheSystemCause(t *testing.T) {
	err := error(badFile("d.csv", "cannot read: %v", syscall.EACCES))
	if !errors.Is(err, ErrBadData) || !errors.Is(err, syscall.EACCES) || err.Error() != "d.csv: cannot read: permission denied" {
		t.Errorf("%v", err)
	}
	if err := error(badEntry("y.idx", 3, "cannot read: %v", syscall.EIO)); !errors.Is(err, syscall.EIO) {
		t.Errorf("%v", err)
	}
	if err := error(badf("d.csv", 2, 0, "", "expected a number, got %q", "x")); errors.Is(err, syscall.EACCES) || !errors.Is(err, ErrBadData) {
		t.Errorf("%v", err)
	}
	// The real thing: a directory given as a file cannot be read.
	_, _, err = load(t, csvConfig, map[string]string{"data.csv/x": ""})
	if !errors.Is(err, ErrBadData) || !errors.Is(err, syscall.EISDIR) {
		t.Errorf("a directory as the csv: %v", err)
	}
}
