package models

// sequentialKind is a Sequential stack of model.layers from "x" to "out"
// by its general name, for stacks that are neither an MLP nor a CNN (an
// embedding, recurrent layers or Transformer encoders over token ids, as
// a language model). It builds and validates as mlp and cnn do: the
// layers, not the kind, decide the network.
var sequentialKind = Kind{Build: buildSequentialKind, Validate: validateStack}

func buildSequentialKind(spec Spec) (Model, error) { return buildSequential("sequential", spec) }
