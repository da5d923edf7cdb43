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
