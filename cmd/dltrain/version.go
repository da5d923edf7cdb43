package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/dltrain/dltrain/pkg/compute"
	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

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
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, d := range bi.Deps {
					if d.Path == "gorgonia.org/gorgonia" {
						gorgonia = d.Version
					}
				}
			}
			fmt.Fprintf(a.stdout, "dltrain %s\n%s %s/%s\ngorgonia %s\nBLAS: %s\n",
				version, runtime.Version(), runtime.GOOS, runtime.GOARCH, gorgonia, compute.BLASName)
			return nil
		},
	}
}
