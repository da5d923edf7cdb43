package run

import (
	"context"
	"fmt"

	"github.com/dltrain/dltrain/pkg/config"
)

// sampleGenerated generates samples from a generative (GAN) run.
func sampleGenerated(_ context.Context, s sampleRun, opt SampleOptions) error {
	return fmt.Errorf("%w: sample: generating from a GAN is not built yet", config.ErrInvalid)
}
