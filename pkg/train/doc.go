// Package train optimizes a model: losses, optimizers, regularization, the
// training loop and its hooks, and checkpoints.
//
// A Session compiles, per input shapes, a training graph per objective
// (forward, loss and the gradients of the objective's parameter group,
// with dropout) and an evaluation graph (forward and loss, without
// dropout), all bound to the model's ParamStore; it keeps the most
// recently used few (DefaultMaxGraphs of each mode). The last partial
// batch of an epoch therefore runs through a graph of its own size and is
// exact. Each graph's executor runs only the nodes its loss, gradients or
// outputs need. Optimizers are dltrain's own: they update the ParamStore in place
// with PyTorch's documented formulas and keep state that checkpoints save,
// so a resumed run continues bit for bit.
//
// Each family is a registry, one kind per file: losses (loss.go),
// optimizers (optimizer.go), schedules (schedule.go). The Loop is small: per
// optimizer step it runs its Phases in order (phase.go; one, DefaultPhase,
// unless it lists several). Each phase has its objective (loss terms over
// named model outputs), its parameter group, optimizer, schedule and
// Regularizer: it accumulates mini-batch gradients, guards against
// divergence, applies the Regularizer (penalties, clipping, decoupled
// decay) and its optimizer at its schedule's rate. Per epoch the loop
// evaluates, tracks the best weights and early stopping. A checkpoint
// (format 2) holds each phase's optimizer and schedule state by name;
// format 1 files load as the one phase. Progress display, metric
// logs, TensorBoard events and checkpoints attach to it as Hooks.
package train
