//go:build openblas

package compute

import (
	"fmt"
	"runtime"

	"github.com/dltrain/dltrain/pkg/compute/internal/openblas"
	"gonum.org/v1/netlib/blas/netlib"
)

// The openblas build tag (`go build -tags openblas`, needs cgo and
// Debian's libopenblas-dev) routes every matrix product, dltrain's and
// Gorgonia's, to OpenBLAS through gonum's cgo binding.
func init() {
	impl = netlib.Implementation{}
	BLASName = fmt.Sprintf("OpenBLAS (cgo), kernels %s; %s", openblas.Core(), openblas.Config())
	blasThreads = openblas.SetThreads
	// Until SetThreads says otherwise, OpenBLAS runs as many threads as Go
	// (GOMAXPROCS, which the GOMAXPROCS environment variable sets).
	openblas.SetThreads(runtime.GOMAXPROCS(0))
}
