package compute

// Which vector kernels this CPU runs (set in cpu_amd64.go); tests switch
// them off to check each path against the plain loops.
var useAVX512, useAVX2 bool

// useAVX512VL: AVX-512 with the VL, BW and DQ extensions (every AVX-512
// CPU but the Xeon Phi), which the dot-product and pooling kernels use.
var useAVX512VL bool

// useFMA: AVX2 with FMA, which the AVX2 sgemm kernels need (every x86 CPU
// since 2013 has both); they run where AVX-512 is missing.
var useFMA bool
