package models

// buildMLP builds the mlp kind, the default: a Sequential stack of
// model.layers from "x" to "out". Despite its name it takes every layer
// type (a convolution or a residual block too), so that a config may
// leave model.kind out; what sets it apart from cnn is only the name a
// summary and a run's log show.
func buildMLP(spec Spec) (Model, error) { return buildSequential("mlp", spec) }
