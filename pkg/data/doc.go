// Package data loads, cleans, splits and preprocesses the samples an
// experiment trains on, writes and reads prepared datasets, and serves the
// samples in mini-batches.
//
// Sources are registered by scheme in one map (load.go), each kind in its
// own file: builtin (builtin.go), csv and tsv (csv.go), idx (idx.go), npy
// and npz (npy.go), images (images.go), text (text.go) and series
// (series.go). A table-like source becomes a frame, one row per sample,
// that table.go takes through the fixed path: clean (clean.go: missing
// values, duplicates; labels.go: class labels and targets), split
// (split.go: random, stratified, column, k-fold; groupsplit.go: whole
// groups; timesplit.go: time order; timecol.go reads time columns), then
// fit the imputation,
// the categorical
// encodings (encode.go), the constant-feature check and the scaling
// (scale.go) on the training rows alone and apply them to every split.
// Text and series sources split their tokens or time steps in time order
// first and cut windows inside each part, so nothing from the future of a
// validation or test sample is trained on. Test rows never influence
// anything fitted.
//
// Rows are permuted in place into train, val, test order, so the three
// splits share one array and nothing is copied per split or per epoch;
// Gather fills a batch without allocating. Batch order is a pure function
// of (seed, epoch), so a resumed run sees the same batches.
//
// Prepare (prepared.go) writes a dataset as float32 .npy files with a
// manifest (source checksums, a fingerprint of the data section) and the
// per-sample split assignment, atomically; Open uses it when it is up to
// date and rebuilds it when it is stale, OpenReadOnly prepares in memory
// instead. transform.go reapplies the saved preprocessing to new samples.
//
// Problems with the data wrap ErrBadData and name the file, the line and
// column (or entry) and what was expected.
package data
