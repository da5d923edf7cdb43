//go:build !unix

package main

import "os"

// notifySave returns a channel that never delivers: there is no SIGUSR1.
func notifySave() chan os.Signal { return make(chan os.Signal) }

func stopSave(ch chan os.Signal) { close(ch) }
