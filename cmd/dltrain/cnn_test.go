package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSummaryAndGradcheckExitCodes(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	head := "name: t\ndata: {source: builtin:digits, shape: [1, 8, 8]}\nmodel:\n  kind: cnn\n  layers:\n"
	for path, layers := range map[string]string{
		good: "    - {type: conv2d, filters: 2, kernel: 3}\n    - {type: flatten}\n    - {type: dense, units: 10}\n",
		bad:  "    - {type: conv2d, filters: 2, kernel: 3}\n    - {type: dense, units: 10}\n",
	} {
		if err := os.WriteFile(path, []byte(head+layers), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		args []string
		code int
		out  string // expected in stdout or stderr
	}{
		{[]string{"summary", "--config", good}, 0, "parameters: 750 trainable"},
		{[]string{"summary", "--config", good, "--json"}, 0, `"trainable_params": 750`},
		{[]string{"summary", "--config", bad}, 2, `layer 1 (dense "dense1")`},
		{[]string{"summary"}, 2, "--config is required"},
		{[]string{"gradcheck", "--config", good, "--samples", "2", "--max-elements", "5"}, 0, "passed"},
		{[]string{"gradcheck", "--config", good, "--samples", "2", "--max-elements", "2", "--tolerance", "1e-300"}, 4, "gradient check failed"},
		{[]string{"gradcheck", "--config", bad}, 2, "(2, 6, 6)"},
		{[]string{"gradcheck", "--config", good, "--samples", "0"}, 2, "--samples must be >= 1"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut strings.Builder
			code := execute(tc.args, &out, &errOut)
			if code != tc.code || !strings.Contains(out.String()+errOut.String(), tc.out) {
				t.Errorf("exit %d, want %d; output lacks %q?\nstdout: %s\nstderr: %s", code, tc.code, tc.out, out.String(), errOut.String())
			}
		})
	}
}
