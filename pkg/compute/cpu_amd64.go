//go:build !purego

package compute

import "golang.org/x/sys/cpu"

func init() {
	useAVX512 = cpu.X86.HasAVX512F
	useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasAVX
	useFMA = useAVX2 && cpu.X86.HasFMA
	useAVX512VL = useAVX512 && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512DQ
	if _, ok := impl.(pureGo); ok {
		switch {
		case useAVX512:
			BLASName = "pure Go: dltrain's AVX-512 sgemm kernel, gonum for the rest"
		case useFMA:
			BLASName = "pure Go: dltrain's AVX2 sgemm kernel, gonum for the rest"
		}
	}
}
