// Package train optimizes a model: losses, optimizers, regularization, the
// training loop and its hooks, and checkpoints.
//
// A Session compiles, per batch size, a training graph (forward, loss and
// gradients, with dropout) and an evaluation graph (forward and loss,
// without dropout), both bound to the model's ParamStore. The last partial
// batch of an epoch therefore runs through a graph of its own size and is
// exact. Optimizers are dltrain's own: they update the ParamStore in place
// with PyTorch's documented formulas and keep state that checkpoints save,
// so a resumed run continues bit for bit.
//
// The Loop is small; progress display, metric logs and checkpoints attach
// to it as Hooks.
package train
