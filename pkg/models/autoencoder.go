package models

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/config"
)

// OutputCode is the name of an autoencoder's bottleneck output: what the
// encoder makes of the input, and what `dltrain predict --embed` writes.
const OutputCode = "code"

// autoencoderTask is the data task an autoencoder trains on: its target is
// its own input.
const autoencoderTask = "reconstruction"

// Autoencoder is an encoder stack from the input "x" to a bottleneck
// "code" and a decoder stack from the code back to "out", of the input's
// shape. Dense, convolutional and denoising autoencoders are all this
// kind: the layers decide the first two, model.corrupt the third (the
// corruption acts on the training batches, outside the graph, so the
// network is the same).
type Autoencoder struct {
	Signature
	store            *ParamStore
	encoder, decoder []builtLayer
}

var _ Model = (*Autoencoder)(nil)

// autoencoderKind is the autoencoder: model.encoder and model.decoder
// instead of model.layers.
var autoencoderKind = Kind{Build: buildAutoencoder, Validate: validateAutoencoder}

// buildAutoencoder builds the autoencoder kind from model.encoder and
// model.decoder, their parameters named encoder/LAYER/... and
// decoder/LAYER/.... A decoder that does not give back the input's shape
// is a problem naming model.decoder and both shapes.
func buildAutoencoder(spec Spec) (Model, error) {
	e := spec.Exp
	enc, ps := parseBlocks(e.Model.Encoder)
	dec, dps := parseBlocks(e.Model.Decoder)
	if ps = append(ps, dps...); len(ps) > 0 {
		return nil, ps
	}
	if ps := autoUnits(dec, spec.Input); len(ps) > 0 { // the decoder gives back the input
		return nil, ps
	}
	store := spec.newStore()
	root := &Scope{Store: store, Init: e.Model.Init, BiasInit: e.Model.BiasInit, RNG: spec.InitRNG, Vocab: spec.Vocab}
	encoder, code, ps := setupStack(enc, root.Child("encoder"), spec.Input)
	if len(ps) > 0 {
		return nil, ps
	}
	decoder, out, ps := setupStack(dec, root.Child("decoder"), code)
	if len(ps) > 0 {
		return nil, ps
	}
	if !equalShapes(out, spec.Input) {
		return nil, config.Problems{e.Problem("model.decoder", "%s", decoderMismatch(spec.Input, code, out))}
	}
	sig := Signature{
		In:  []TensorSpec{{InputX, spec.Input}},
		Out: []TensorSpec{{OutputOut, out}, {OutputCode, code}},
	}
	return &Autoencoder{Signature: sig, store: store, encoder: encoder, decoder: decoder}, nil
}

// decoderMismatch says why a decoder's output shape out is not the input
// shape in, which the code shape code was encoded from.
func decoderMismatch(in, code, out Shape) string {
	msg := fmt.Sprintf("the decoder turns the code %v into %v, but an autoencoder's output must have the input's shape %v", code, out, in)
	switch {
	case len(in) == 3 && len(out) == 3 && in[0] == out[0]:
		return msg + fmt.Sprintf("; its upsampling returns %d×%d images, not %d×%d (convolutions without padding: same shrink the images, pooling floors odd sizes; "+
			"pad the convolutions, pool only even sizes, or end the decoder with layers that reach %d×%d)",
			out[1], out[2], in[1], in[2], in[1], in[2])
	case len(in) == 3 && len(out) == 3:
		return msg + fmt.Sprintf("; end the decoder with a layer of %d channels (filters: %d)", in[0], in[0])
	case len(in) == 1 && len(out) == 1:
		return msg + fmt.Sprintf("; end the decoder with a dense layer of units: %d", in[0])
	}
	return msg + fmt.Sprintf("; end the decoder with a layer producing %v (a dense layer of units: %d, then a reshape)", in, in.Size())
}

// validateAutoencoder checks the autoencoder kind's sections without any
// data: both stacks are given and their layers parse, the data task is
// reconstruction, and model.layers (another kind's) is not set. The
// corruption is checked by the augment package, which applies it.
func validateAutoencoder(e *config.Experiment) config.Problems {
	ps := seq2seqOnly(e)
	if len(e.Model.Layers) > 0 {
		ps = append(ps, e.Problem("model.layers", "an autoencoder has model.encoder and model.decoder, not model.layers"))
	}
	ps = append(ps, ganOnly(e)...)
	if len(e.Model.Encoder) == 0 {
		ps = append(ps, e.Problem("model.encoder", "an autoencoder needs its encoder layers, from the input to the code"))
	}
	if len(e.Model.Decoder) == 0 {
		ps = append(ps, e.Problem("model.decoder", "an autoencoder needs its decoder layers, from the code back to the input's shape"))
	}
	if e.Data.Task != autoencoderTask {
		ps = append(ps, e.Problem("model.kind", "an autoencoder learns to give back its input: set data.task: %s (got %s)", autoencoderTask, e.Data.Task))
	}
	for _, stack := range [][]config.Block{e.Model.Encoder, e.Model.Decoder} {
		for _, b := range stack {
			_, _, lps := parseLayer(b)
			ps = append(ps, lps...)
		}
	}
	ps = append(ps, checkAuto(e.Model.Encoder, false)...)
	return append(ps, checkAuto(e.Model.Decoder, true)...)
}

// autoencoderOnly refuses the autoencoder's keys in a model of another
// kind, which would silently ignore them.
func autoencoderOnly(e *config.Experiment) config.Problems {
	var ps config.Problems
	for _, k := range []struct {
		key string
		set bool
	}{
		{"model.encoder", len(e.Model.Encoder) > 0},
		{"model.decoder", len(e.Model.Decoder) > 0},
		{"model.corrupt", e.Model.Corrupt.Kind != "" || len(e.Model.Corrupt.Opts) > 0},
	} {
		if k.set {
			ps = append(ps, e.Problem(k.key, "applies to model.kind autoencoder only; this model is %s", e.Model.Kind))
		}
	}
	return ps
}

// Params implements Model.
func (m *Autoencoder) Params() *ParamStore { return m.store }

// Forward implements Model: "out", the reconstruction, and "code", the
// encoder's output.
func (m *Autoencoder) Forward(g *Graph, in Tensors) (Tensors, error) {
	code, err := forwardStack(g, m.encoder, in[InputX])
	if err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	out, err := forwardStack(g, m.decoder, code)
	if err != nil {
		return nil, fmt.Errorf("decoder: %w", err)
	}
	return Tensors{OutputOut: out, OutputCode: code}, nil
}

// Layers implements Model: the encoder's rows, then the decoder's.
func (m *Autoencoder) Layers() []LayerInfo {
	return append(flattenInfo(m.encoder, 0), flattenInfo(m.decoder, 0)...)
}

// CodeShape is the per-sample shape of the bottleneck.
func (m *Autoencoder) CodeShape() Shape { return m.Out[1].Shape }
