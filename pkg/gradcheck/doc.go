// Package gradcheck proves a model's gradients. It compares the symbolic
// gradient of the loss with respect to every trainable parameter with
// central finite differences, (L(p+ε) − L(p−ε))/2ε, in float64, on real
// or random inputs, with every dropout mask frozen so the loss is a
// deterministic function of the parameters.
//
// The test suite runs it on every layer type and option; `dltrain
// gradcheck` runs it on a configured model.
package gradcheck
