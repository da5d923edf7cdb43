package sweep

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
)

// FuzzParse: no sweep file makes the parser panic, and every file it
// refuses is refused as a user's mistake (config.ErrInvalid, exit 2).
func FuzzParse(f *testing.F) {
	for _, name := range []string{"iris-random.yaml", "digits-tpe.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "configs", "sweeps", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("experiment: ../iris-mlp.yaml\nmetric: val_loss\nmethod: grid\nspace:\n  train.batch_size: {choice: []}\n  model.layers.dense1: {int_uniform: [1]}\n"))
	f.Add([]byte("space: [1, 2]\nearly_stop: asha\ntpe: {gamma: 2}\n"))
	name := filepath.Join("..", "..", "configs", "sweeps", "fuzz.yaml")
	f.Fuzz(func(t *testing.T, text []byte) {
		s, err := Parse(name, text)
		if err != nil && !errors.Is(err, config.ErrInvalid) {
			t.Fatalf("error %v does not wrap config.ErrInvalid", err)
		}
		if err == nil && (s.Trials < 1 || len(s.Space) == 0) {
			t.Fatalf("accepted a sweep with %d trials over %d keys", s.Trials, len(s.Space))
		}
	})
}
