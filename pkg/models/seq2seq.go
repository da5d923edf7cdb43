package models

import (
	"fmt"
	"slices"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Sequences describes the token sequences of a seq2seq data set, which a
// seq2seq model is built for: each sample's input "x" is SourceLength
// source ids followed by TargetLength target-input ids (BOS first), id 0
// being padding in both.
type Sequences struct {
	SourceLength, TargetLength int
	SourceVocab, TargetVocab   int
	// LongestSource and LongestTarget say where the longest ones are
	// (FILE:LINE), for problems with a table too short for them.
	LongestSource, LongestTarget string
}

// The tensors a seq2seq model defines besides its input and output.
const (
	// TensorSourceMask is the source's key-padding mask [source], 1 for a
	// token and 0 for padding.
	TensorSourceMask = "source_mask"
	// TensorMemory is the encoder's output [source, dim], which the decoder
	// attends to.
	TensorMemory = "memory"
)

// padID is the id of padding in a seq2seq model's inputs.
const padID = 0

// Seq2Seq is PyTorch's nn.Transformer with its embeddings and output
// projection: source and target token embeddings (padding id 0), position
// encodings, dropout, an encoder stack with a final layer norm, a causal
// decoder stack attending to the encoder's output (padded source
// positions masked) with a final layer norm, and a linear projection to
// one logit per target token. "x" is [source + target] ids, "out" is
// [target, target vocabulary] logits. Parameter names are nn.Transformer's
// under encoder/ and decoder/ (encoder/layers.0.self_attn.in_proj_weight,
// encoder/norm.weight, ...), the embeddings' src_embedding/weight and
// tgt_embedding/weight, the projection's generator/weight and /bias.
type Seq2Seq struct {
	Signature
	store              *ParamStore
	seq                Sequences
	srcEmb, tgtEmb     *embeddingLayer
	srcPos, tgtPos     *positional
	encoder            *transformerEncoder
	decoder            *transformerDecoder
	encNorm, decNorm   [2]*Param
	generator          *linear
	info               []LayerInfo
	dropout, eps       float64
	sourceLen, targetL int
}

var _ Model = (*Seq2Seq)(nil)

// seq2seqKind is the encoder-decoder Transformer over token sequences.
var seq2seqKind = Kind{Build: buildSeq2Seq, Validate: validateSeq2Seq}

// seq2seqTask is the data task a seq2seq model trains on.
const seq2seqTask = "seq2seq"

// seq2seqKeys are the model keys of the seq2seq kind; the eval keys are
// its decoding's.
var seq2seqKeys = []string{"model.dim", "model.heads", "model.ff", "model.encoder_layers", "model.decoder_layers", "model.dropout",
	"model.norm", "model.activation", "model.positional", "model.max_length", "eval.beam", "eval.length_penalty", "eval.max_length"}

// validateSeq2Seq checks the seq2seq kind's keys without any data.
func validateSeq2Seq(e *config.Experiment) config.Problems {
	var ps config.Problems
	m := e.Model
	bad := func(key, format string, args ...any) { ps = append(ps, e.Problem(key, format, args...)) }
	for _, k := range []struct {
		key string
		set bool
	}{{"model.layers", len(m.Layers) > 0}, {"model.encoder", len(m.Encoder) > 0}, {"model.decoder", len(m.Decoder) > 0},
		{"model.corrupt", m.Corrupt.Kind != "" || len(m.Corrupt.Opts) > 0}} {
		if k.set {
			bad(k.key, "a seq2seq model is described by model.dim, heads, ff, encoder_layers and decoder_layers, not %s", k.key)
		}
	}
	if e.Data.Task != seq2seqTask {
		bad("model.kind", "a seq2seq model maps a source sequence to a target sequence: set data.task: %s (got %s)", seq2seqTask, e.Data.Task)
	}
	switch {
	case m.Dim < 1:
		bad("model.dim", "is required for a seq2seq model and must be >= 1, got %d", m.Dim)
	case m.Heads < 1:
		bad("model.heads", "is required for a seq2seq model and must be >= 1, got %d", m.Heads)
	case m.Dim%m.Heads != 0:
		bad("model.heads", "%d heads do not divide model.dim %d; each head takes dim/heads values", m.Heads, m.Dim)
	}
	for _, k := range []struct {
		key string
		v   int
		min int
	}{{"model.ff", m.FF, 0}, {"model.encoder_layers", m.EncoderLayers, 1}, {"model.decoder_layers", m.DecoderLayers, 1},
		{"model.max_length", m.MaxLength, 0}, {"eval.beam", e.Eval.Beam, 0}, {"eval.max_length", e.Eval.MaxLength, 0}} {
		if k.v < k.min {
			bad(k.key, "must be >= %d, got %d", k.min, k.v)
		}
	}
	if !(m.Dropout >= 0 && m.Dropout < 1) {
		bad("model.dropout", "must be in [0, 1), got %v", m.Dropout)
	}
	if !(e.Eval.LengthPenalty >= 0) {
		bad("eval.length_penalty", "must be >= 0, got %v", e.Eval.LengthPenalty)
	}
	for _, k := range []struct {
		key, v  string
		allowed []string
	}{{"model.norm", m.Norm, []string{"post", "pre"}}, {"model.activation", m.Activation, []string{"relu", "gelu"}},
		{"model.positional", m.Positional, []string{"sinusoidal", "learned"}}} {
		if !slices.Contains(k.allowed, k.v) {
			bad(k.key, "must be one of %v, got %q", k.allowed, k.v)
		}
	}
	return ps
}

// seq2seqOnly refuses the seq2seq keys in a model of another kind, which
// would silently ignore them, and a seq2seq task for one.
func seq2seqOnly(e *config.Experiment) config.Problems {
	var ps config.Problems
	for _, k := range seq2seqKeys {
		if e.Changed(k) {
			ps = append(ps, e.Problem(k, "applies to model.kind seq2seq only; this model is %s", e.Model.Kind))
		}
	}
	if e.Data.Task == seq2seqTask {
		ps = append(ps, e.Problem("model.kind", "a seq2seq task needs model.kind: seq2seq, got %s", e.Model.Kind))
	}
	return ps
}

// buildSeq2Seq builds the seq2seq kind for the sequences spec describes.
func buildSeq2Seq(spec Spec) (Model, error) {
	e := spec.Exp
	sq := spec.Sequences
	if sq == nil {
		return nil, config.Problems{e.Problem("model.kind", "a seq2seq model needs seq2seq data (data.task: seq2seq)")}
	}
	m := e.Model
	if ps := seq2seqLengths(e, sq); len(ps) > 0 {
		return nil, ps
	}
	ff := m.FF
	if ff == 0 {
		ff = 4 * m.Dim
	}
	s := &Seq2Seq{store: spec.newStore(), seq: *sq, dropout: m.Dropout, eps: 1e-5}
	layer := func(layers int) transformerEncoder {
		return transformerEncoder{layers: layers, heads: m.Heads, ff: ff, dropout: m.Dropout, eps: 1e-5,
			norm: m.Norm, activation: m.Activation, keyMask: TensorSourceMask}
	}
	enc := layer(m.EncoderLayers)
	s.encoder = &enc
	s.decoder = &transformerDecoder{enc: layer(m.DecoderLayers), memory: TensorMemory, memoryKey: TensorSourceMask}
	s.decoder.enc.causal, s.decoder.enc.keyMask = true, ""
	s.srcEmb = &embeddingLayer{dim: m.Dim, vocab: sq.SourceVocab, padding: padID}
	s.tgtEmb = &embeddingLayer{dim: m.Dim, vocab: sq.TargetVocab, padding: padID}
	maxLen := m.MaxLength
	if maxLen == 0 {
		maxLen = max(sq.SourceLength, sq.TargetLength)
	}
	s.srcPos = &positional{kind: m.Positional, maxLength: maxLen}
	s.tgtPos = &positional{kind: m.Positional, maxLength: maxLen}
	s.generator = &linear{units: sq.TargetVocab, activation: "none", useBias: true}
	root := &Scope{Store: s.store, Init: e.Model.Init, BiasInit: e.Model.BiasInit, RNG: spec.InitRNG}
	src, tgt := Shape{sq.SourceLength}, Shape{sq.TargetLength}
	steps := []struct {
		name string
		typ  string
		l    Layer
		in   Shape
	}{
		{"src_embedding", "embedding", s.srcEmb, src},
		{"tgt_embedding", "embedding", s.tgtEmb, tgt},
		{"src_positional", "positional", s.srcPos, Shape{sq.SourceLength, m.Dim}},
		{"tgt_positional", "positional", s.tgtPos, Shape{sq.TargetLength, m.Dim}},
		{"encoder", "transformer_encoder", s.encoder, Shape{sq.SourceLength, m.Dim}},
		{"decoder", "transformer_decoder", s.decoder, Shape{sq.TargetLength, m.Dim}},
		{"generator", "linear", s.generator, Shape{sq.TargetLength, m.Dim}},
	}
	for _, st := range steps {
		scope := root.Child(st.name)
		out, err := st.l.Setup(scope, st.in)
		if err != nil {
			return nil, config.Problems{e.Problem("model", "%s: %v", st.name, err)}
		}
		if st.name == "encoder" || st.name == "decoder" { // nn.Transformer's final norms
			norm := &s.encNorm
			if st.name == "decoder" {
				norm = &s.decNorm
			}
			if norm[0], err = scope.Add("norm.weight", Norm, []int{m.Dim}, "ones"); err == nil {
				norm[1], err = scope.Add("norm.bias", Norm, []int{m.Dim}, "zeros")
			}
			if err != nil {
				return nil, err
			}
		}
		s.info = append(s.info, describeLayer(scope, config.Block{Kind: st.typ}, st.l, st.in, out))
	}
	s.sourceLen, s.targetL = sq.SourceLength, sq.TargetLength
	s.Signature = Signature{
		In:  []TensorSpec{{InputX, Shape{sq.SourceLength + sq.TargetLength}}},
		Out: []TensorSpec{{OutputOut, Shape{sq.TargetLength, sq.TargetVocab}}},
	}
	return s, nil
}

// seq2seqLengths refuses a learned position table shorter than the
// data's longest source or target, naming where that one is.
func seq2seqLengths(e *config.Experiment, sq *Sequences) config.Problems {
	m := e.Model
	if m.Positional != "learned" || m.MaxLength == 0 {
		return nil
	}
	var ps config.Problems
	if sq.SourceLength > m.MaxLength {
		ps = append(ps, e.Problem("model.max_length", "the learned position table holds %d positions, but the longest source (%s) has %d tokens; raise model.max_length to at least %d (or 0: the data's longest)",
			m.MaxLength, sq.LongestSource, sq.SourceLength, max(sq.SourceLength, sq.TargetLength)))
	}
	if sq.TargetLength > m.MaxLength {
		ps = append(ps, e.Problem("model.max_length", "the learned position table holds %d positions, but the longest target (%s) takes %d (its tokens and </s>); raise model.max_length to at least %d (or 0: the data's longest)",
			m.MaxLength, sq.LongestTarget, sq.TargetLength, max(sq.SourceLength, sq.TargetLength)))
	}
	return ps
}

// Params implements Model.
func (s *Seq2Seq) Params() *ParamStore { return s.store }

// Layers implements Model: embeddings, positions, the two stacks and the
// projection.
func (s *Seq2Seq) Layers() []LayerInfo { return slices.Clone(s.info) }

// Sequences is what the model was built for.
func (s *Seq2Seq) Sequences() Sequences { return s.seq }

// Forward implements Model: "out", the target logits, from "x"; it
// defines the source mask and the memory on g.
func (s *Seq2Seq) Forward(g *Graph, in Tensors) (Tensors, error) {
	x, ok := in[InputX]
	if !ok {
		return nil, fmt.Errorf("a seq2seq model needs its input %q", InputX)
	}
	src, err := ops.Slice(x, 1, 0, s.sourceLen)
	if err != nil {
		return nil, err
	}
	tgt, err := ops.Slice(x, 1, s.sourceLen, s.sourceLen+s.targetL)
	if err != nil {
		return nil, err
	}
	keep, err := ops.Apply(keepMask{}, []bool{false}, src)
	if err != nil {
		return nil, err
	}
	if err := g.Define(TensorSourceMask, keep); err != nil {
		return nil, err
	}
	mem, err := s.embed(g, s.srcEmb, s.srcPos, src)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	if mem, err = s.encoder.Forward(g, mem); err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	if mem, err = ops.LayerNorm(mem, g.Node(s.encNorm[0]), g.Node(s.encNorm[1]), s.eps, true); err != nil {
		return nil, err
	}
	if err := g.Define(TensorMemory, mem); err != nil {
		return nil, err
	}
	h, err := s.embed(g, s.tgtEmb, s.tgtPos, tgt)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	if h, err = s.decoder.Forward(g, h); err != nil {
		return nil, fmt.Errorf("decoder: %w", err)
	}
	if h, err = ops.LayerNorm(h, g.Node(s.decNorm[0]), g.Node(s.decNorm[1]), s.eps, true); err != nil {
		return nil, err
	}
	out, err := s.generator.Forward(g, h)
	if err != nil {
		return nil, fmt.Errorf("generator: %w", err)
	}
	return Tensors{OutputOut: out}, nil
}

// embed is dropout(embedding(ids) + positions).
func (s *Seq2Seq) embed(g *Graph, emb *embeddingLayer, pos *positional, ids *G.Node) (*G.Node, error) {
	h, err := emb.Forward(g, ids)
	if err != nil {
		return nil, err
	}
	if h, err = pos.Forward(g, h); err != nil {
		return nil, err
	}
	return s.encoder.drop(g, h)
}

// keepMask is 1 where a token id is not padding, 0 where it is: the
// key-padding mask of a source. It has no gradient.
type keepMask struct{}

func (keepMask) Name() string { return "keep_mask(pad 0)" }

func (keepMask) OutShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }

func (keepMask) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	// Float32s and Float64s, not Data(): boxing the slice in an
	// interface allocates on every step.
	switch out.Dtype() {
	case tensor.Float32:
		keepWhereNotPad(out.Float32s(), in[0].Float32s())
	case tensor.Float64:
		keepWhereNotPad(out.Float64s(), in[0].Float64s())
	default:
		return fmt.Errorf("keep_mask: unsupported dtype %v", out.Dtype())
	}
	return nil
}

// keepWhereNotPad writes 1 into o where ids holds a token and 0 where it
// holds padding.
func keepWhereNotPad[F float32 | float64](o, ids []F) {
	for i, id := range ids {
		o[i] = 0
		if id != padID {
			o[i] = 1
		}
	}
}

func (keepMask) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return G.Nodes{nil}, nil
}
