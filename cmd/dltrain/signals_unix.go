//go:build unix

package main

import (
	"os"
	"os/signal"
	"syscall"
)

// notifySave delivers SIGUSR1, the signal that asks a training run for a
// checkpoint (clusters send it before pre-empting a job).
func notifySave() chan os.Signal {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	return ch
}

func stopSave(ch chan os.Signal) { signal.Stop(ch); close(ch) }
