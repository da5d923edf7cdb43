//go:build !unix

package bench

import "time"

// maxRSS and cpuTime are not measured here: the bench reports 0 for peak
// memory and CPU time.
func maxRSS() int64 { return 0 }

func cpuTime() time.Duration { return 0 }
