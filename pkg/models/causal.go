package models

import (
	"fmt"
)

// causalLayer is a layer that knows whether its output at a position of a
// sequence reads only the input at that position and before it (in an
// evaluation graph). causality returns "" when it does, and otherwise
// why not.
type causalLayer interface {
	causality() string
}

// Causal returns nil when every output position of m reads only the
// input's tokens at that position and before it, as a language model that
// predicts each position's next token must (so that it can generate: the
// token it predicts is never among what it read). Otherwise it names the
// first layer that reads later positions, and why. Only the sequential
// kinds can be causal; a layer that does not declare itself causal
// (flatten, pooling, convolutions, residual blocks) is taken not to be.
func Causal(m Model) error {
	s, ok := m.(*Sequential)
	if !ok {
		return fmt.Errorf("a %T is not a stack of layers whose causality is known", m)
	}
	for i, l := range s.layers {
		why := fmt.Sprintf("a %s layer mixes the positions of a sequence", l.info.Type)
		if c, ok := unwrapLayer(l.Layer).(causalLayer); ok {
			why = c.causality()
		}
		if why != "" {
			return fmt.Errorf("layer %d (%s %q) reads later positions: %s", i, l.info.Type, l.info.Name, why)
		}
	}
	return nil
}

// Layers that treat every position alike, or only look back.

func (*embeddingLayer) causality() string { return "" }

func (d *dense) causality() string {
	if !d.perPosition {
		return "it reads its whole (flat) input at once"
	}
	return ""
}

func (l *linear) causality() string {
	if !l.perPosition {
		return "it reads its whole (flat) input at once"
	}
	return ""
}
func (*positional) causality() string   { return "" }
func (*dropoutLayer) causality() string { return "" } // none in evaluation
func (*activationLayer) causality() string {
	return ""
}

func (l *layerNorm) causality() string {
	if l.axes == 1 {
		return ""
	}
	return fmt.Sprintf("it normalizes over its last %d axes, the time axis among them", l.axes)
}

func (r *recurrent) causality() string {
	if r.bidir {
		return "it is bidirectional: its reverse direction reads the sequence from the end"
	}
	return ""
}

func (a *attentionLayer) causality() string {
	switch {
	case a.input != "":
		return fmt.Sprintf("it attends to another tensor (input: %s)", a.input)
	case !a.causal:
		return "its attention is not causal: every position attends to every other (set causal: true)"
	}
	return ""
}

func (t *transformerEncoder) causality() string {
	if !t.causal {
		return "its attention is not causal: every position attends to every other (set causal: true)"
	}
	return ""
}
