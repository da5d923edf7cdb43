// Package docs holds dltrain's user documentation; its test keeps the
// examples of README.md and docs/*.md working: every YAML block loads with
// the real config loader (and a whole experiment trains for one epoch),
// and every shell example calls the built binary with files that exist.
package docs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/run"
	"github.com/dltrain/dltrain/pkg/sweep"
	"github.com/dltrain/dltrain/pkg/train"
	"go.yaml.in/yaml/v3"
)

// repo is the repository root, seen from this package's directory.
const repo = ".."

// block is one fenced code block of a Markdown file.
type block struct {
	File string // the Markdown file
	Line int    // line of the block's first line of content (1-based)
	Lang string // the fence's info string: yaml, sh, ...
	Text string
	// Skip is the reason given by a "<!-- doctest: skip REASON -->"
	// comment on the line before the fence; such a block is not checked.
	Skip string
}

func (b block) where() string { return fmt.Sprintf("%s:%d", b.File, b.Line) }

var skipMarker = regexp.MustCompile(`^<!--\s*doctest:\s*skip\s*(.*?)\s*-->$`)

// extractBlocks returns the fenced code blocks of a Markdown text.
func extractBlocks(file, md string) []block {
	var out []block
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		fence, ok := strings.CutPrefix(strings.TrimSpace(lines[i]), "```")
		if !ok {
			continue
		}
		b := block{File: file, Line: i + 2, Lang: strings.TrimSpace(fence)}
		if i > 0 {
			if m := skipMarker.FindStringSubmatch(strings.TrimSpace(lines[i-1])); m != nil {
				b.Skip = m[1]
				if b.Skip == "" {
					b.Skip = "(no reason given)"
				}
			}
		}
		var text []string
		for i++; i < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i]), "```"); i++ {
			text = append(text, lines[i])
		}
		b.Text = strings.Join(text, "\n") + "\n"
		out = append(out, b)
	}
	return out
}

// document is one YAML document of a block (a block may list alternatives
// separated by --- lines).
type document struct {
	block
	Text string
	Line int
}

// documents splits a block at its --- lines.
func documents(b block) []document {
	var out []document
	lines := strings.Split(b.Text, "\n")
	start := 0
	for i := 0; i <= len(lines); i++ {
		if i < len(lines) && strings.TrimSpace(lines[i]) != "---" {
			continue
		}
		if text := strings.Join(lines[start:i], "\n"); strings.TrimSpace(text) != "" {
			out = append(out, document{block: b, Text: text + "\n", Line: b.Line + start})
		}
		start = i + 1
	}
	return out
}

// fragmentBase is the experiment a fragment (a block that is not a whole
// experiment) is completed with before it is loaded.
const fragmentBase = `
name: doc-fragment
data: {source: builtin:iris}
model:
  layers: [{type: dense, units: 3}]
`

// checked says what checkYAML did with a document.
type checked int

const (
	parsed  checked = iota // loaded by the config loader: keys, types and values valid
	read                   // and its data read: the source loads with these settings
	trained                // a whole experiment, trained for one epoch
)

// checkYAML loads one YAML document with dltrain's loader, as if it were
// a config file in configs/ (the examples' relative paths are relative to
// it). A whole experiment (with data and model sections) must train for
// one epoch when its data files are here; a fragment (a data, train or
// augment section alone) is completed with fragmentBase and must load, and
// when it names its own data source, the data must read. Files that are
// not in the repository (a user's measurements.txt, the full MNIST) are
// allowed, but not a missing file under testdata/: that is a broken path.
func checkYAML(ctx context.Context, d document, out string) (checked, error) {
	var top map[string]any
	if err := yaml.Unmarshal([]byte(d.Text), &top); err != nil {
		return parsed, err
	}
	if top == nil {
		return parsed, errors.New("an empty YAML document")
	}
	if top["experiment"] != nil && top["space"] != nil {
		// A sweep file (docs/sweep.md): its experiment path is relative
		// to configs/sweeps/, where the shipped sweeps are.
		_, err := sweep.Parse(filepath.Join(repo, "configs", "sweeps", "doc-example.yaml"), []byte(d.Text))
		return parsed, err
	}
	whole := top["data"] != nil && top["model"] != nil
	text := []byte(d.Text)
	if !whole {
		var base map[string]any
		if err := yaml.Unmarshal([]byte(fragmentBase), &base); err != nil {
			return parsed, err
		}
		if task, _ := section(top, "data")["task"].(string); (task == "regression" || task == "forecasting") && section(top, "train")["loss"] == nil {
			base["train"] = map[string]any{"loss": "mse"} // the base's default loss, cross_entropy, is for classes
		}
		merged, err := yaml.Marshal(merge(base, top))
		if err != nil {
			return parsed, err
		}
		text = merged
	}
	name := filepath.Join(repo, "configs", "doc-example.yaml")
	exp, err := config.Parse(name, text, nil, nil, run.Validators...)
	if err != nil {
		return parsed, err
	}
	ownSource := whole || hasKey(top, "data", "source")
	if !ownSource {
		return parsed, nil
	}
	if missing, err := missingFiles(exp.Data.Source); err != nil || len(missing) > 0 {
		return parsed, err
	}
	if !whole {
		_, _, err := data.Load(exp)
		return read, err
	}
	resolved, err := exp.YAML()
	if err != nil {
		return parsed, err
	}
	cfg := filepath.Join(out, "experiment.yaml")
	if err := os.WriteFile(cfg, resolved, 0o644); err != nil {
		return parsed, err
	}
	// One epoch, then stop as SIGINT would (the example's own epochs may
	// be needed by its schedule's warm-up, so they are not overridden).
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	_, err = run.Train(ctx, run.TrainOptions{Config: cfg, Out: out, Hooks: []train.Hook{stopAfterEpoch{cancel: cancel}}})
	if errors.Is(err, train.ErrInterrupted) {
		err = nil
	}
	return trained, err
}

// stopAfterEpoch cancels the run at the end of its first epoch.
type stopAfterEpoch struct {
	train.NopHook
	cancel func()
}

func (s stopAfterEpoch) AfterEpoch(*train.Loop, train.EpochStats) error {
	s.cancel()
	return nil
}

// merge lays fragment over base: maps merge key by key, anything else is
// replaced.
func merge(base, fragment map[string]any) map[string]any {
	out := maps.Clone(base)
	for k, v := range fragment {
		bm, ok1 := out[k].(map[string]any)
		fm, ok2 := v.(map[string]any)
		if ok1 && ok2 {
			out[k] = merge(bm, fm)
		} else {
			out[k] = v
		}
	}
	return out
}

func hasKey(m map[string]any, name, key string) bool { return section(m, name)[key] != nil }

// section is a top-level mapping of a document, nil when it has none.
func section(m map[string]any, name string) map[string]any {
	s, _ := m[name].(map[string]any)
	return s
}

// missingFiles lists the files of a resolved data source that do not
// exist; one under the repository's testdata/ is an error.
func missingFiles(source string) ([]string, error) {
	scheme, ref, _ := strings.Cut(source, ":")
	if scheme == "builtin" {
		return nil, nil
	}
	testdata, err := filepath.Abs(filepath.Join(repo, "testdata"))
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, p := range strings.Split(ref, ",") {
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			if strings.HasPrefix(p, testdata+string(filepath.Separator)) {
				return nil, fmt.Errorf("%s does not exist: a broken path into the repository's testdata", p)
			}
			missing = append(missing, p)
		}
	}
	return missing, nil
}

// commands are dltrain's subcommands (cmd/dltrain/root.go).
var commands = []string{"train", "eval", "predict", "plot", "prepare", "version", "summary", "gradcheck", "bench", "sweep", "sample", "completion", "help"}

var envAssignment = regexp.MustCompile(`^([A-Z_][A-Z0-9_]*=\S*\s+)+`)

// checkShell checks the dltrain command lines of a shell block (```sh) or
// of a terminal transcript (lines starting with "$ "): each calls the
// binary as make build leaves it, bin/dltrain, with a known command, and
// every --config file exists.
func checkShell(b block) []error {
	var errs []error
	for i, line := range strings.Split(b.Text, "\n") {
		cmdline, prompt := strings.CutPrefix(strings.TrimSpace(line), "$ ")
		if b.Lang != "sh" && !prompt {
			continue
		}
		cmdline = envAssignment.ReplaceAllString(cmdline, "")
		fields := strings.Fields(cmdline)
		if len(fields) == 0 {
			continue
		}
		where := fmt.Sprintf("%s:%d", b.File, b.Line+i)
		switch fields[0] {
		case "dltrain":
			errs = append(errs, fmt.Errorf("%s: %q: call the built binary, bin/dltrain (make build), as the install section says", where, cmdline))
			continue
		case "bin/dltrain":
		default:
			continue
		}
		sub := ""
		for j := 1; j < len(fields); j++ {
			if fields[j] == "--log-format" {
				j++ // the global flag's value
				continue
			}
			if !strings.HasPrefix(fields[j], "-") {
				sub = fields[j]
				break
			}
		}
		if !slices.Contains(commands, sub) {
			errs = append(errs, fmt.Errorf("%s: %q: no dltrain command %q; known: %s", where, cmdline, sub, strings.Join(commands, ", ")))
		}
		for j, f := range fields {
			if f == "--config" && j+1 < len(fields) {
				if _, err := os.Stat(filepath.Join(repo, fields[j+1])); err != nil {
					errs = append(errs, fmt.Errorf("%s: %q: the config %s is not in the repository", where, cmdline, fields[j+1]))
				}
			}
		}
	}
	return errs
}

// pages are the Markdown files whose examples are checked.
func pages(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repo, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{filepath.Join(repo, "README.md")}, files...)
}

// TestExamples checks every YAML and shell example of README.md and
// docs/*.md (see checkYAML and checkShell).
func TestExamples(t *testing.T) {
	var yamlBlocks, shellBlocks int
	for _, page := range pages(t) {
		md, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		name, _ := filepath.Rel(repo, page)
		for _, b := range extractBlocks(name, string(md)) {
			if b.Skip != "" {
				t.Logf("%s: skipped: %s", b.where(), b.Skip)
				continue
			}
			for _, err := range checkShell(b) {
				t.Error(err)
			}
			if b.Lang == "sh" {
				shellBlocks++
			}
			if b.Lang != "yaml" {
				continue
			}
			yamlBlocks++
			for _, d := range documents(b) {
				t.Run(fmt.Sprintf("%s:%d", name, d.Line), func(t *testing.T) {
					if testing.Short() && strings.Contains(d.Text, "model:") {
						t.Skip("trains")
					}
					how, err := checkYAML(context.Background(), d, t.TempDir())
					if err != nil {
						t.Errorf("%s:%d: the example does not work: %v\n%s", name, d.Line, err, d.Text)
					}
					t.Logf("%s", []string{"loaded", "loaded, data read", "trained for one epoch"}[how])
				})
			}
		}
	}
	if yamlBlocks < 20 || shellBlocks < 10 {
		t.Errorf("found %d YAML and %d shell blocks: is the extractor broken?", yamlBlocks, shellBlocks)
	}
}

// TestExtractorCatchesBrokenExamples: the checks fail on broken examples
// (the README's old two-target regression, a one-line train option given
// at the top level, a misspelt key, a path into testdata that is not
// there, a bad second alternative, a shell example calling a dltrain that
// is not on PATH) and pass on good ones and on skipped blocks.
func TestExtractorCatchesBrokenExamples(t *testing.T) {
	md := "# page\n\n```yaml\n" + `data:   # regression with two targets
  source: tsv:../testdata/penguins/penguins.tsv
  task: regression
  targets: [body_mass_g, flipper_length_mm]
` + "```\n```yaml\nloss: {kind: huber, delta: 0.5}\n```\n" +
		"```yaml\nname: x\ndata: {source: builtin:iris}\nmodel:\n  layers: [{type: dense, unit: 3}]\n```\n" +
		"```yaml\ndata: {source: 'csv:../testdata/penguins/no-such.csv', label: species}\n```\n" +
		"```yaml\ntrain:\n  optimizer: sgd\n---\ntrain:\n  optimizer: {kind: sgd, lr: -1}\n```\n" +
		"<!-- doctest: skip a sketch of a future key -->\n```yaml\nfuture: {key: 1}\n```\n" +
		"```yaml\nname: good\ndata: {source: builtin:iris}\nmodel:\n  layers: [{type: dense, units: 3}]\ntrain: {epochs: 2}\n```\n" +
		"```sh\nmake build\ndltrain train --config configs/iris-mlp.yaml\nbin/dltrain train --config configs/no-such.yaml\nbin/dltrain trian --config configs/iris-mlp.yaml\n" +
		"bin/dltrain --log-format json train --config configs/iris-mlp.yaml\n```\n" +
		"```\n$ dltrain version\ndltrain v1\n```\n"
	blocks := extractBlocks("page.md", md)
	if len(blocks) != 9 {
		t.Fatalf("%d blocks, want 9: %+v", len(blocks), blocks)
	}
	if b := blocks[0]; b.Line != 4 || b.Lang != "yaml" || !strings.HasPrefix(b.Text, "data:   # regression") {
		t.Errorf("first block: line %d, lang %q, text %q", b.Line, b.Lang, b.Text)
	}
	if blocks[5].Skip != "a sketch of a future key" {
		t.Errorf("the skip marker was not read: %+v", blocks[5])
	}
	type want struct {
		line  int
		fails bool
		how   checked
	}
	var got []want
	for _, b := range blocks {
		if b.Lang != "yaml" || b.Skip != "" {
			continue
		}
		for _, d := range documents(b) {
			how, err := checkYAML(context.Background(), d, t.TempDir())
			got = append(got, want{d.Line, err != nil, how})
			t.Logf("%s:%d: %v", d.File, d.Line, err)
		}
	}
	wantYAML := []want{
		{4, true, read},     // the old regression example: text columns not declared categorical
		{10, true, parsed},  // loss: at the top level, not under train:
		{13, true, parsed},  // unit: for units:
		{19, true, parsed},  // no such file under testdata/
		{22, false, parsed}, // train: {optimizer: sgd}
		{25, true, parsed},  // lr: -1
		{33, false, trained},
	}
	if !slices.Equal(got, wantYAML) {
		t.Errorf("(line, fails, how) of the YAML documents:\n got %v\nwant %v", got, wantYAML)
	}
	var shellErrs []string
	for _, b := range blocks {
		for _, err := range checkShell(b) {
			shellErrs = append(shellErrs, err.Error())
		}
	}
	for i, w := range []string{
		`page.md:41: "dltrain train --config configs/iris-mlp.yaml": call the built binary`,
		`page.md:42: "bin/dltrain train --config configs/no-such.yaml": the config configs/no-such.yaml is not in the repository`,
		`page.md:43: "bin/dltrain trian --config configs/iris-mlp.yaml": no dltrain command "trian"`,
		`page.md:47: "dltrain version": call the built binary`,
	} {
		if i >= len(shellErrs) || !strings.HasPrefix(shellErrs[i], w) {
			t.Errorf("shell check %d: want %q, got %q", i, w, shellErrs)
		}
	}
	if len(shellErrs) != 4 {
		t.Errorf("%d shell errors, want 4: %q", len(shellErrs), shellErrs)
	}
}

var (
	mdLink  = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	heading = regexp.MustCompile("(?m)^#{1,6} (.+)$")
)

// anchors lists the anchors GitHub gives a page's headings: lower case,
// punctuation but - and _ dropped, spaces as dashes.
func anchors(md string) map[string]bool {
	out := map[string]bool{}
	inCode := false
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inCode = !inCode
		}
		if m := heading.FindStringSubmatch(line); m != nil && !inCode {
			a := strings.Map(func(r rune) rune {
				switch {
				case r == ' ':
					return '-'
				case r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r > 127:
					return r
				}
				return -1
			}, strings.ToLower(m[1]))
			out[a] = true
		}
	}
	return out
}

// TestLinks: every relative link of README.md and docs/*.md leads to a
// file of the repository and, with a #fragment, to a heading of it.
func TestLinks(t *testing.T) {
	for _, page := range pages(t) {
		md, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllStringSubmatch(string(md), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			file, frag, _ := strings.Cut(target, "#")
			path := page
			if file != "" {
				path = filepath.Join(filepath.Dir(page), file)
			}
			text, err := os.ReadFile(path)
			if err != nil {
				if _, serr := os.Stat(path); serr == nil {
					continue // a directory
				}
				t.Errorf("%s: a link to %s, which is not in the repository", page, target)
				continue
			}
			if frag != "" && !anchors(string(text))[frag] {
				t.Errorf("%s: a link to %s: %s has no heading #%s", page, target, path, frag)
			}
		}
	}
}

// TestSweepBlocksLoadAsSweeps: a YAML block with experiment: and space:
// is loaded as a sweep file (its experiment relative to configs/sweeps/),
// so a misspelt parameter path in a sweep example fails.
func TestSweepBlocksLoadAsSweeps(t *testing.T) {
	good := "experiment: ../iris-mlp.yaml\nmetric: val_loss\ntrials: 2\nspace:\n  train.optimizer.lr: {log_uniform: [1.0e-3, 1.0e-1]}\n"
	bad := strings.Replace(good, "optimizer.lr", "optimizer.lrr", 1)
	for _, c := range []struct {
		text  string
		fails bool
	}{{good, false}, {bad, true}} {
		d := document{block: block{File: "page.md", Line: 1, Lang: "yaml", Text: c.text}, Text: c.text, Line: 1}
		how, err := checkYAML(context.Background(), d, t.TempDir())
		if (err != nil) != c.fails || how != parsed {
			t.Errorf("%q: %v (%v), want failure %v", c.text, err, how, c.fails)
		}
	}
}
