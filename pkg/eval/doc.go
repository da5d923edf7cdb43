// Package eval measures predictions against targets: accuracy, per-class
// precision, recall and F1, macro-F1 and the confusion matrix for
// classification; MSE, MAE and R² for regression. It renders the results
// as a readable table and as JSON. It never trains and never changes a
// model: it only sees predictions.
package eval
