// Package models builds networks from an experiment's model section.
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
// any graph is built. The mlp and cnn kinds share one Sequential builder,
// whose stacking residual blocks reuse for the layers they hold.
package models
