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
// Each family is a registry, one kind per file: losses (loss.go),
// optimizers (optimizer.go), schedules (schedule.go). The Loop is small: per
// optimizer step it accumulates mini-batch gradients, guards against
// divergence, applies the Regularizer (penalties, clipping, decoupled
// decay) and the optimizer at the schedule's rate; per epoch it evaluates,
// tracks the best weights and early stopping. Progress display, metric
// logs, TensorBoard events and checkpoints attach to it as Hooks.
package train
