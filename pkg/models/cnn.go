package models

// cnnKind is a Sequential stack of model.layers from "x" to "out", for
// convolutional stacks over channel-first samples (data.shape [C, H, W]
// or [C, L]). It builds and validates as mlp does, on purpose: the layers,
// not the kind, decide the network, and a stack that does not fit its
// input is refused by the layers' own shape checks with the layer and
// both shapes named (a cnn with a dense first layer is a valid network).
var cnnKind = Kind{Build: buildCNN, Validate: validateStack}

func buildCNN(spec Spec) (Model, error) { return buildSequential("cnn", spec) }
