package models

import (
	"github.com/dltrain/dltrain/pkg/config"
)

// autoSized is a layer whose size may be left to the data (units: auto on
// a dense layer): the size of the model's output the loss asks for (one
// logit per class or vocabulary entry, one value per target).
type autoSized interface {
	autoSize() bool
	setAutoSize(n int)
}

// checkAuto reports every layer of blocks but the last (every one when
// lastToo is false) that asks for units: auto: only the model's last
// layer can take its size from the data.
func checkAuto(blocks []config.Block, lastToo bool) config.Problems {
	var ps config.Problems
	for i, b := range blocks {
		if v, ok := b.Opts["units"].(string); !ok || v != "auto" {
			continue
		}
		if lastToo && i == len(blocks)-1 {
			continue
		}
		last := "the model's last layer, not to an encoder"
		if lastToo {
			last = "the model's last layer, " + blocks[len(blocks)-1].Path
		}
		ps = append(ps, b.Problem("units", "auto takes the size of the model's output from the data, so it applies only to %s; give this %s layer a number of units", last, b.Kind))
	}
	return ps
}

// autoUnits gives the last of layers the size out asks for when it is set
// to units: auto: out's last axis (the classes or vocabulary of each
// position, or the targets). A model built without knowing its output
// (out nil) cannot resolve it, which is a problem naming the key.
func autoUnits(ls []parsed, out Shape) config.Problems {
	if len(ls) == 0 {
		return nil
	}
	last := ls[len(ls)-1]
	a, ok := unwrapLayer(last.Layer).(autoSized)
	if !ok || !a.autoSize() {
		return nil
	}
	if len(out) == 0 {
		return config.Problems{last.block.Problem("units", "auto takes the size from the data, which is not known here; give a number of units")}
	}
	a.setAutoSize(out[len(out)-1])
	return nil
}

// unwrapLayer is the layer under a frozen wrapper.
func unwrapLayer(l Layer) Layer {
	if f, ok := l.(frozen); ok {
		return f.Layer
	}
	return l
}
