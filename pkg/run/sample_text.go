package run

import (
	"context"
	"fmt"

	"github.com/dltrain/dltrain/pkg/config"
)

// sampleText generates text from a language model run.
func sampleText(_ context.Context, s sampleRun, opt SampleOptions) error {
	return fmt.Errorf("%w: sample: text generation from a language model is not built yet", config.ErrInvalid)
}
