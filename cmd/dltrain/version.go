package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/dltrain/dltrain/pkg/compute"
	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"
// (make build does). Without it, buildVersion reads the version from
// what the Go toolchain recorded in the binary.
var version = ""

// buildVersion is the version to report: the one set with -ldflags, else
// the main module's version as the go command recorded it (the tag of a
// `go install module@version` build; for a build in a git checkout, a
// pseudo-version naming the revision, +dirty with uncommitted changes),
// else the recorded VCS revision (its first 12 hex digits, "-dirty" with
// changes), else "dev".
func buildVersion(ldflags string, bi *debug.BuildInfo) string {
	if ldflags != "" {
		return ldflags
	}
	if bi == nil {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	rev = rev[:min(len(rev), 12)]
	if dirty {
		rev += "-dirty"
	}
	return rev
}

func newVersionCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version, the Go toolchain and the BLAS in use",
		Example: "  dltrain version",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := a.begin(); err != nil {
				return err
			}
			gorgonia := "unknown"
			bi, ok := debug.ReadBuildInfo()
			if ok {
				for _, d := range bi.Deps {
					if d.Path == "gorgonia.org/gorgonia" {
						gorgonia = d.Version
					}
				}
			} else {
				bi = nil
			}
			fmt.Fprintf(a.stdout, "dltrain %s\n%s %s/%s\ngorgonia %s\nBLAS: %s\n",
				buildVersion(version, bi), runtime.Version(), runtime.GOOS, runtime.GOARCH, gorgonia, compute.BLASName)
			return nil
		},
	}
}
