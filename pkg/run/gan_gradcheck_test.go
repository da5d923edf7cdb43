package run

import (
	"context"
	"io"
	"testing"
)

// TestGANPhasesPassGradCheck: both phases' objectives (the discriminator's
// on real and generated samples, the generator's on D's scores of its
// samples, with wgan_gp's gradient penalty) match finite differences over
// their own parameter groups. For wgan_gp the noise and ε are frozen, and
// the penalty's derivative with respect to the critic's weights goes
// through the explicit input-gradient graph: a wrong rule there fails.
func TestGANPhasesPassGradCheck(t *testing.T) {
	for _, loss := range []string{"bce", "hinge", "wgan_gp"} {
		t.Run(loss, func(t *testing.T) {
			rep, err := GradCheck(context.Background(), GradCheckOptions{Config: mnistGAN, Sets: []string{
				"train.loss=" + loss, "model.latent=4",
				"model.generator=[{type: dense, units: 8, activation: leaky_relu, alpha: 0.2}, {type: dense, units: 784, activation: tanh}]",
				"model.discriminator=[{type: dense, units: 4, activation: leaky_relu, alpha: 0.2}, {type: dense, units: 1}]"},
				MaxElements: 100, Stderr: io.Discard})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Results) != 8 {
				t.Fatalf("%d parameters checked, want the 4 of each network", len(rep.Results))
			}
			if err := rep.Err(); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestWGANGPConvCriticPassesGradCheck: a DCGAN-style critic (strided
// conv2d with leaky ReLU, a relu layer, flatten, dense) under wgan_gp:
// the critic's objective, penalty included, matches finite differences.
func TestWGANGPConvCriticPassesGradCheck(t *testing.T) {
	rep, err := GradCheck(context.Background(), GradCheckOptions{Config: digitsDCGAN, Sets: []string{
		"train.loss=wgan_gp", "model.latent=4",
		"model.generator=[{type: dense, units: 64, activation: tanh}, {type: reshape, shape: [1, 8, 8]}]",
		"model.discriminator=[{type: conv2d, filters: 3, kernel: 4, stride: 2, padding: 1, activation: leaky_relu, alpha: 0.2}, {type: conv2d, filters: 2, kernel: 3, stride: 2, padding: 1}, {type: relu}, {type: flatten}, {type: dense, units: 1}]"},
		MaxElements: 100, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 8 {
		t.Fatalf("%d parameters checked, want the 6 of the critic and 2 of the generator", len(rep.Results))
	}
	if err := rep.Err(); err != nil {
		t.Error(err)
	}
}

// TestWGANGPSmoothPoolCriticPassesGradCheck: a critic with tanh and
// sigmoid activations (whose second derivatives the penalty's gradient
// goes through), max and average pooling and a global average pooling
// passes the finite-difference check of its objective, penalty included.
func TestWGANGPSmoothPoolCriticPassesGradCheck(t *testing.T) {
	rep, err := GradCheck(context.Background(), GradCheckOptions{Config: digitsDCGAN, Sets: []string{
		"train.loss=wgan_gp", "model.latent=4",
		"model.generator=[{type: dense, units: 64, activation: tanh}, {type: reshape, shape: [1, 8, 8]}]",
		"model.discriminator=[{type: conv2d, filters: 3, kernel: 3, padding: 1, activation: tanh}, {type: maxpool2d, size: 2}, " +
			"{type: conv2d, filters: 4, kernel: 3, padding: 1, activation: sigmoid}, {type: avgpool2d, size: 2, stride: 1, padding: 1, include_pad: false}, " +
			"{type: conv2d, filters: 3, kernel: 2}, {type: tanh}, {type: global_avgpool}, {type: dense, units: 3, activation: sigmoid}, {type: dense, units: 1}]"},
		MaxElements: 100, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 12 {
		t.Fatalf("%d parameters checked, want the 10 of the critic and 2 of the generator", len(rep.Results))
	}
	if err := rep.Err(); err != nil {
		t.Error(err)
	}
	for _, r := range rep.Results {
		t.Logf("%s: relative error %.3g", r.Param, r.RelErr)
	}
}
