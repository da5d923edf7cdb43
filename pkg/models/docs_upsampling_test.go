package models_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/models"
)

// The examples of docs/layers-upsampling.md load and build, and the
// summary shown after each is the one dltrain prints for it.
func TestUpsamplingDocExamplesBuild(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "layers-upsampling.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(b), "```")
	examples := 0
	for i := 1; i < len(blocks); i += 2 {
		text, ok := strings.CutPrefix(blocks[i], "yaml\n")
		if !ok {
			continue
		}
		examples++
		exp, err := config.Parse("doc.yaml", []byte(text), nil, nil)
		if err != nil {
			t.Fatalf("example %d: %v", examples, err)
		}
		m, err := models.Build(models.Spec{Exp: exp, Input: exp.Data.Shape, InitRNG: rand.New(rand.NewPCG(1, 1))})
		if err != nil {
			t.Fatalf("example %d: %v", examples, err)
		}
		var got strings.Builder
		if err := models.Summarize(exp.Model.Kind, m).WriteText(&got); err != nil {
			t.Fatal(err)
		}
		// The next code block is its summary.
		if i+2 >= len(blocks) || !strings.HasPrefix(blocks[i+2], "\nlayer (type)") {
			t.Errorf("example %d is not followed by its summary", examples)
		} else if want := strings.TrimPrefix(blocks[i+2], "\n"); got.String() != want {
			t.Errorf("example %d: summary\n%s\nthe page shows\n%s", examples, got.String(), want)
		}
	}
	if examples == 0 {
		t.Fatal("the page has no yaml example")
	}
}
