//go:build unix

package main

import (
	"bytes"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSecondSignalExitsAtOnce: the first SIGINT cancels the command's
// context (the loop then finishes its step and saves); a second one exits
// at once with 130, whatever the command is doing.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	var stderr bytes.Buffer
	exited := make(chan int, 1)
	a := &app{stderr: &stderr, logFormat: "text", saveRequests: make(chan struct{}, 1), exit: func(code int) { exited <- code }}
	ctx, stop := a.watchSignals()
	defer stop()
	syscall.Kill(syscall.Getpid(), syscall.SIGINT)
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the first SIGINT did not cancel the context")
	}
	select {
	case code := <-exited:
		t.Fatalf("the first SIGINT exited (%d)", code)
	default:
	}
	syscall.Kill(syscall.Getpid(), syscall.SIGINT)
	select {
	case code := <-exited:
		if code != 130 {
			t.Errorf("exit %d after the second SIGINT, want 130", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second SIGINT did not exit")
	}
	if !strings.Contains(stderr.String(), "second interrupt, exiting now") {
		t.Errorf("stderr: %s", stderr.String())
	}
}
