package models

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// batchNorm normalizes each channel (each feature of a flat input) with
// the batch's statistics in training and with running statistics in
// evaluation, then scales by gamma and shifts by beta, as PyTorch's
// BatchNorm1d/2d. The running mean and variance are Buffer parameters: not
// trained, saved in checkpoints, updated by every training forward pass
// with weight momentum on the new batch (the variance term unbiased).
type batchNorm struct {
	momentum, eps float64

	gamma, beta, mean, variance *Param
}

func newBatchNorm(o *config.Options) Layer {
	b := &batchNorm{momentum: o.Float("momentum", 0.1), eps: o.Float("eps", 1e-5)}
	o.Range("momentum", b.momentum, 0, 1)
	o.Positive("eps", b.eps)
	return b
}

func (b *batchNorm) Setup(s *Scope, in Shape) (Shape, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("batchnorm needs a (features) or (channels, ...) input, got a scalar")
	}
	c := []int{in[0]}
	var err error
	for _, p := range []struct {
		dst  **Param
		name string
		role Role
		init string
	}{
		{&b.gamma, "gamma", Norm, "ones"},
		{&b.beta, "beta", Norm, "zeros"},
		{&b.mean, "running_mean", Buffer, "zeros"},
		{&b.variance, "running_var", Buffer, "ones"},
	} {
		if *p.dst, err = s.Add(p.name, p.role, c, p.init); err != nil {
			return nil, err
		}
	}
	return in, nil
}

func (b *batchNorm) Forward(g *Graph, x *G.Node) (*G.Node, error) {
	gamma, beta := g.Node(b.gamma), g.Node(b.beta)
	if !g.Train {
		return ops.BatchNormInference(x, gamma, beta, g.Node(b.mean), g.Node(b.variance), b.eps)
	}
	if s := x.Shape(); s.TotalSize()/s[1] < 2 {
		// PyTorch refuses this too: the unbiased variance of one value is 0/0.
		return nil, fmt.Errorf("%w: batchnorm in training needs more than one value per channel, and a batch of %d sample(s) "+
			"of shape %v has %d; choose train.batch_size so that no batch (the last of an epoch included) holds a single sample",
			config.ErrInvalid, s[0], Shape(s[1:]), s.TotalSize()/s[1])
	}
	stats := &ops.RunningStats{Mean: b.mean.Value, Var: b.variance.Value, Momentum: b.momentum}
	if g.UpdatesStats != nil && !g.UpdatesStats(b.mean) {
		stats = nil // batch statistics, the running ones left as they are
	}
	return ops.BatchNorm(x, gamma, beta, b.eps, stats, g.NeedsGrad(x))
}

// FLOPs counts a multiply and an add per element.
func (b *batchNorm) FLOPs(in, _ Shape) int64 { return 2 * int64(in.Size()) }

// learns marks a layer with trainable parameters that has no initializer
// option: trainable: false may freeze its scale and shift.
func (b *batchNorm) learns() {}
