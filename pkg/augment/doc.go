// Package augment transforms training mini-batches: random flips, shifts
// and noise, each registered by name (augment.go) and built from one block
// of the experiment's `augment` list.
//
// A Pipeline applies its ops in order to a batch once it is gathered, in
// place. Only the training loop calls it: validation, test, eval and
// predict read the data as it is.
//
// Randomness is stateless: the draws for a mini-batch come from a stream
// seeded by (experiment seed, data.StreamAugment, epoch, index of the
// mini-batch in its epoch) and nothing else. A batch is therefore the same
// whether it was gathered ahead by the prefetcher or when its step began,
// after a resume (there is no augmentation state to save), and at any
// thread count.
package augment
