package compute

// Which vector kernels this CPU runs (set in cpu_amd64.go); tests switch
// them off to check each path against the plain loops.
var useAVX512, useAVX2 bool

// useAVX512VL: AVX-512 with the VL, BW and DQ extensions (every AVX-512
// CPU but the Xeon Phi), which the dot-product and pooling kernels use.
var useAVX512VL bool
