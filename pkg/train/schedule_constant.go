package train

import "github.com/dltrain/dltrain/pkg/config"

// constant keeps the optimizer's learning rate.
type constant struct{}

func newConstant(*config.Options, float64) Schedule { return constant{} }

func (constant) LR(base float64, _ Clock) float64 { return base }
