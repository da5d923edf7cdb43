package data

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// sniffLen is how much of a file given as delimited text is inspected for
// binary content before it is parsed.
const sniffLen = 1024

// magics name the binary formats a data file is most often confused with,
// by their first bytes, with what to do instead.
var magics = []struct {
	prefix, what string
}{
	{"\x7fELF", "an ELF executable"},
	{"\x1f\x8b", "gzip-compressed data: decompress it first (gunzip)"},
	{"\x93NUMPY", "an npy array: give it as npy:PATH"},
	{"PK\x03\x04", "a zip archive (an npz archive is given as npz:PATH)"},
	{"\x89PNG\r\n\x1a\n", "a PNG image (a folder of images is given as images:DIR)"},
	{"\xff\xd8\xff", "a JPEG image (a folder of images is given as images:DIR)"},
	{"GIF8", "a GIF image (a folder of images is given as images:DIR)"},
	{"%PDF", "a PDF document"},
}

// checkText refuses a file given as delimited text (csv, tsv, series)
// whose first sniffLen bytes, head, are binary: a NUL byte, a control
// character other than tab, line ends, form feed and the DOS end-of-file
// mark, or mostly invalid UTF-8. Text in a legacy 8-bit encoding (Latin-1
// "é" is one byte, invalid as UTF-8) is still text: only a file whose
// head is more than an eighth invalid bytes is refused for that alone.
// The error names the file (and line), what was found, and the format the
// file looks like when its first bytes say.
func checkText(file string, head []byte) error {
	if bytes.HasPrefix(head, []byte("\xff\xfe")) || bytes.HasPrefix(head, []byte("\xfe\xff")) {
		return badFile(file, "is UTF-16 text (it starts with a UTF-16 byte order mark); dltrain reads UTF-8: save it as UTF-8")
	}
	looks := ""
	for _, m := range magics {
		if bytes.HasPrefix(head, []byte(m.prefix)) {
			looks = "; it starts like " + m.what
			break
		}
	}
	if looks == "" && isIDX(head) {
		looks = "; it starts like an IDX file: give images and labels as idx:IMAGES,LABELS"
	}
	invalid := 0
	for i := 0; i < len(head); {
		r, n := utf8.DecodeRune(head[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			if len(head)-i >= utf8.UTFMax { // not a rune cut by the end of head
				invalid++
			}
		case r == 0:
			return binaryErr(file, head, i, "a NUL byte", looks)
		case unicode.IsControl(r) && !strings.ContainsRune("\t\n\r\f\v\x1a", r) && r < 0x80:
			return binaryErr(file, head, i, "the control character "+strconv.QuoteRune(r), looks)
		}
		i += n
	}
	if invalid > len(head)/8 || looks != "" {
		return badFile(file, "is binary, not delimited text: %d of its first %d bytes are not UTF-8%s", invalid, len(head), looks)
	}
	return nil
}

// binaryErr locates the binary byte at offset at of head: the line it is
// on, and its byte offset.
func binaryErr(file string, head []byte, at int, what, looks string) error {
	line := 1 + bytes.Count(head[:at], []byte("\n"))
	return badf(file, line, 0, "", "is binary, not delimited text: %s at byte %d%s", what, at+1, looks)
}

// isIDX says whether head starts like an IDX file: two zero bytes, a type
// code and a dimension count from 1 to 4.
func isIDX(head []byte) bool {
	if len(head) < 4 || head[0] != 0 || head[1] != 0 || head[3] < 1 || head[3] > 4 {
		return false
	}
	_, ok := idxTypes[head[2]]
	return ok
}

// Printable makes text from a user's files safe to print on a terminal:
// control characters (but newline and tab), invisible format characters
// and invalid UTF-8 are escaped as Go quotes them (\x00, \a, \u202e,
// \xff); everything else, any script included, is kept.
func Printable(s string) string {
	if isPrintable(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' || r == '\t' || unicode.IsGraphic(r):
			b.WriteString(s[i : i+n])
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	return b.String()
}

func isPrintable(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || (r != '\n' && r != '\t' && !unicode.IsGraphic(r)) {
			return false
		}
	}
	return true
}
