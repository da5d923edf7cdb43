package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated key table of docs/configuration.md")

// TestKeysReference: docs/configuration.md lists every key of the schema
// exactly as KeysMarkdown renders it from the doc tags and defaults, so a
// key added, removed or re-documented without the page fails here (and
// -update rewrites the page).
func TestKeysReference(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "configuration.md")
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(page)
	begin, end := strings.Index(text, KeysBegin), strings.Index(text, KeysEnd)
	if begin < 0 || end < begin {
		t.Fatalf("%s has no %q ... %q section", path, KeysBegin, KeysEnd)
	}
	want := KeysMarkdown()
	got := text[begin+len(KeysBegin)+1 : end]
	if got == want {
		return
	}
	if *update {
		text = text[:begin+len(KeysBegin)+1] + want + text[end:]
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s is stale: run go test ./pkg/config -run TestKeysReference -update\n%s", path, firstDifference(got, want))
}

// firstDifference names the first line where got and want differ.
func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return "the page has:\n  " + a + "\nthe schema gives:\n  " + b
		}
	}
	return ""
}

// TestKeysMarkdown: every key of the schema is a row, with its default
// and its doc tag, a | in a doc tag escaped.
func TestKeysMarkdown(t *testing.T) {
	md := KeysMarkdown()
	for _, k := range Keys() {
		if !strings.Contains(md, "| `"+k.Key+"` |") {
			t.Errorf("no row for %s", k.Key)
		}
		if k.Doc == "" {
			t.Errorf("%s has no doc tag", k.Key)
		}
	}
	for _, want := range []string{
		"| `train.epochs` | int | `10` | passes over the training split |",
		"| `train.optimizer` | kind or {kind: …, options} | `adam` |",
		"| `model.layers` | list of {type: …, options} | — |",
		"| `data.split.train` | float | `0.7` |",
		"| `train.regularization.exclude` | list of string | `[bias, norm]` |",
		`L1 penalty l1·Σ\|w\|`,
		"maps to &lt;unk>",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("no %q in\n%s", want, md)
		}
	}
}
