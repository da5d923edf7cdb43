//go:build !linux

package main

import "syscall"

// workerAttr: without Pdeathsig, workers outlive a coordinator killed with
// -9 and finish the trials they can claim.
func workerAttr() *syscall.SysProcAttr { return nil }
