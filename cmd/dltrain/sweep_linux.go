package main

import "syscall"

// workerAttr makes a sweep's worker processes die with their coordinator
// (a kill -9 of dltrain sweep stops the whole sweep; running it again
// continues it).
func workerAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
