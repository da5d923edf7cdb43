package models

// mlpKind is the default kind: a Sequential stack of model.layers from
// "x" to "out". Despite its name it takes every layer type (a convolution
// or a residual block too), so that a config may leave model.kind out;
// what sets it apart from cnn is only the name a summary and a run's log
// show.
var mlpKind = Kind{Build: buildMLP, Validate: validateStack}

func buildMLP(spec Spec) (Model, error) { return buildSequential("mlp", spec) }
