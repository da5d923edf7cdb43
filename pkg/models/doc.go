// Package models builds networks from an experiment's model section.
//
// A Model is a computation from named input tensors ("x" first) to named
// output tensors ("out", what the loss reads, first; others such as an
// autoencoder's "code" may follow). Run adds it to a Graph and defines its
// inputs and outputs there by name, so that a layer can read another
// named tensor than its input (g.Tensor: a mask, an encoder's output);
// Apply is the one-input, one-output shortcut.
//
// Parameters live in a ParamStore, outside any graph, keyed by stable names
// such as "dense1/W". A Model adds its computation to a Gorgonia graph whose
// parameter nodes are bound to the store's tensors, so the training graph,
// the evaluation graph and a graph per batch size all see the same weights,
// and an optimizer that updates the store in place updates them all.
//
// Layer types and model kinds are registered by name in one literal map
// each (layerTypes, kinds); every type lives in its own file. A layer reads
// its options through config.Options, so an option it does not take is a
// config error naming the key and the options it has.
//
// Per-sample shapes are channel first, as in PyTorch: (channels, height,
// width) for conv2d and 2-D pooling, (channels, length) for conv1d. Each
// layer's Setup derives its output shape from its input's, so a stack that
// does not fit is a config problem naming the layer and both shapes before
// any graph is built. The mlp and cnn kinds (mlp.go, cnn.go) both build a
// Sequential stack, whose stacking residual blocks reuse for the layers
// they hold. A layer set trainable: false has its parameters frozen: out
// of every training phase's parameter group.
package models
