package main

import "syscall"

// workerAttr makes a sweep's worker processes die with their coordinator
// (a kill -9 of dltrain sweep stops the whole sweep; running it again
// continues it), and puts them in a process group of their own, so that
// Ctrl-C reaches only the coordinator, which passes one SIGINT on (a
// second would make a worker exit before its checkpoint is saved).
func workerAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
