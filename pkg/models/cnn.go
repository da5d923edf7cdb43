package models

// buildCNN builds the cnn kind: a Sequential stack of model.layers from
// "x" to "out", as mlp builds, for convolutional stacks over
// channel-first samples (data.shape [C, H, W] or [C, L]). It builds the
// same way as mlp on purpose: the layers, not the kind, decide the
// network, and a stack that does not fit its input is refused by the
// layers' own shape checks with the layer and both shapes named.
func buildCNN(spec Spec) (Model, error) { return buildSequential("cnn", spec) }
