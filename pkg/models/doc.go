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
package models
