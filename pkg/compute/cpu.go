package compute

// Which vector kernels this CPU runs (set in cpu_amd64.go); tests switch
// them off to check each path against the plain loops.
var useAVX512, useAVX2 bool
