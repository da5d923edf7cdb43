package run

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestEvalKeepsTheFinalReport: report.json is the final evaluation (the
// best checkpoint on the test split); evaluating another split or
// checkpoint writes only under eval/ and leaves report.json byte for byte.
func TestEvalKeepsTheFinalReport(t *testing.T) {
	res, err := Train(context.Background(), TrainOptions{Config: "../../configs/iris-mlp.yaml", Out: t.TempDir(), Sets: []string{"train.epochs=3"}})
	if err != nil {
		t.Fatal(err)
	}
	reportPath := filepath.Join(res.Dir, "report.json")
	final, err := os.ReadFile(reportPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, checkpoint, split, file string
	}{
		{"best on val", "best", "val", "best-val.json"},
		{"last on test", "last", "test", "last-test.json"},
		{"last on train", "last", "train", "last-train.json"},
		{"a checkpoint file on test", filepath.Join(res.Dir, "checkpoints", "last.ckpt"), "test", "last.ckpt-test.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Eval(context.Background(), EvalOptions{Run: res.Dir, Checkpoint: tc.checkpoint, Split: tc.split}); err != nil {
				t.Fatal(err)
			}
			if now, _ := os.ReadFile(reportPath); !bytes.Equal(now, final) {
				t.Errorf("eval --checkpoint %s --split %s replaced report.json", tc.checkpoint, tc.split)
			}
			if _, err := os.Stat(filepath.Join(res.Dir, "eval", tc.file)); err != nil {
				t.Errorf("no eval/%s: %v", tc.file, err)
			}
		})
	}
	t.Run("best on test", func(t *testing.T) {
		if err := os.Remove(reportPath); err != nil {
			t.Fatal(err)
		}
		if _, err := Eval(context.Background(), EvalOptions{Run: res.Dir, Split: "test"}); err != nil {
			t.Fatal(err)
		}
		again, err := os.ReadFile(reportPath)
		if err != nil {
			t.Fatalf("eval of the best checkpoint on test did not write report.json again: %v", err)
		}
		if _, err := os.Stat(filepath.Join(res.Dir, "eval", "best-test.json")); err != nil {
			t.Error(err)
		}
		if len(again) == 0 {
			t.Error("report.json is empty")
		}
	})
}
