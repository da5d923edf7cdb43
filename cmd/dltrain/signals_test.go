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

// TestSIGHUPStopsLikeSIGTERM (issue 16, item 10): SIGHUP (a closed
// terminal or ssh session) cancels the command's context as SIGTERM does,
// so the run saves a checkpoint, and maps to exit 129.
func TestSIGHUPStopsLikeSIGTERM(t *testing.T) {
	var stderr bytes.Buffer
	a := &app{stderr: &stderr, logFormat: "text", saveRequests: make(chan struct{}, 1), exit: func(int) {}}
	ctx, stop := a.watchSignals()
	defer stop()
	syscall.Kill(syscall.Getpid(), syscall.SIGHUP)
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("SIGHUP did not cancel the context")
	}
	if a.signal != syscall.SIGHUP || signalCode(a.signal) != 129 || !strings.Contains(stderr.String(), "hangup received, stopping after this step") {
		t.Errorf("signal %v, code %d, stderr %q", a.signal, signalCode(a.signal), stderr.String())
	}
}
