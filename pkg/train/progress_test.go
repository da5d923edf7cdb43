package train

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestProgress(t *testing.T) {
	for _, c := range []struct {
		name           string
		terminal, json bool
		want, not      []string
	}{
		{"terminal", true, false, []string{"samples/s", "loss", "epoch 1/2"}, nil},
		{"plain", false, false, []string{"epoch 1/2  lr 0.001  train_loss", "val_accuracy"}, []string{"samples/s"}},
		{"json", false, true, []string{`"event":"epoch"`, `"val_accuracy"`}, []string{"samples/s"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			l := newTestLoop(t, digitsYAML, "train.epochs=2")
			l.Hooks = []Hook{&Progress{W: &b, Terminal: c.terminal, JSON: c.json, Epochs: 2, throttle: time.Nanosecond}}
			if err := l.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, w := range c.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("no %q in\n%s", w, b.String())
				}
			}
			for _, w := range c.not {
				if strings.Contains(b.String(), w) {
					t.Errorf("%q in\n%s", w, b.String())
				}
			}
		})
	}
}
