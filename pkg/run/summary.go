package run

import (
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/models"
)

// SummaryOptions are the inputs of Summary.
type SummaryOptions struct {
	Config string   // experiment file
	Sets   []string // --set key=value overrides
}

// Summary builds the experiment's model and describes it layer by layer.
// With data.shape set it reads no data: the input shape is data.shape and
// the output is whatever the last layer gives. Without it, the data is
// loaded to learn the number of features, and the output is checked
// against the loss (the number of classes).
func Summary(opt SummaryOptions) (*models.Summary, error) {
	exp, err := Load(opt.Config, opt.Sets)
	if err != nil {
		return nil, err
	}
	spec := models.Spec{Exp: exp, Input: exp.Data.Shape, InitRNG: data.RNG(exp.Seed, data.StreamInit), Check: memoryCheck(exp, true, 0)}
	if len(exp.Data.Shape) == 0 || data.KeepsClasses(exp) { // a conditional GAN's data also gives its classes
		ds, _, err := data.Load(exp)
		if err != nil {
			return nil, err
		}
		spec.Input, spec.Output, spec.Vocab, spec.Classes = ds.Input, ds.ModelOutput(), ds.Vocab(), conditionalClasses(ds.Meta)
		spec.Check = memoryCheck(exp, true, max(ds.Train.N, ds.Val.N, ds.Test.N))
	}
	m, err := models.Build(spec)
	if err != nil {
		return nil, err
	}
	return models.Summarize(exp.Model.Kind, m), nil
}
