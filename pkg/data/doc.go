// Package data loads, cleans, splits and preprocesses the samples an
// experiment trains on, and serves them in mini-batches.
//
// The path of the data is fixed: read the source (recording the line of
// every row), clean it (missing values, non-finite numbers, bad labels),
// split it with a seeded, optionally stratified shuffle, then fit the
// preprocessing (scaling) on the training split alone and apply it to every
// split. Test rows never influence anything fitted. Batch order is a pure
// function of (seed, epoch), so a resumed run sees the same batches.
//
// Problems with the data wrap ErrBadData and name the file, the line and
// the column (or entry) and what was expected.
package data
