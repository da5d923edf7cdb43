// Command dltrain turns a YAML experiment into a trained, honestly
// evaluated network. See README.md, or run dltrain --help.
package main

import "os"

func main() { os.Exit(execute(os.Args[1:], os.Stdout, os.Stderr)) }
