package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/dltrain/dltrain/pkg/data"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// app is what every command shares: where output goes and how the run
// was asked to log.
type app struct {
	stdout, stderr io.Writer
	logFormat      string
	ran            bool // a command's RunE started: errors after this are not usage errors
	signal         os.Signal
	saveRequests   chan struct{}  // SIGUSR1: save a checkpoint after the current step
	exit           func(code int) // os.Exit; a test replaces it
}

func newRootCommand(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "dltrain",
		Short: "Train and evaluate neural networks from YAML experiments",
		Long: `dltrain turns a YAML experiment into a trained, honestly evaluated network.

It reads the experiment (data source, model layers, training options), prepares the data
with a seeded train/val/test split and preprocessing fitted on the training split only,
trains with checkpoints and per-epoch metrics, and evaluates the best checkpoint on the
held-out test split.`,
		Example: `  dltrain train --config configs/digits-mlp.yaml
  dltrain train --config configs/iris-mlp.yaml --set train.epochs=50 --set train.optimizer.lr=0.01
  dltrain eval --run runs/digits-mlp/20261127-101500`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.PersistentFlags().StringVar(&a.logFormat, "log-format", "text", "format of progress and log lines on stderr: text or json")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr("%v\nrun '%s --help' for usage", err, c.CommandPath())
	})
	root.AddCommand(
		newTrainCommand(a),
		newEvalCommand(a),
		newPredictCommand(a),
		newPlotCommand(a),
		newPrepareCommand(a),
		newVersionCommand(a),
		newSummaryCommand(a),
		newGradcheckCommand(a),
		newBenchCommand(a),
		newSweepCommand(a),
		newSampleCommand(a),
	)
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		// Cobra's completion command prints its help and exits 0 for an
		// unknown shell; here it is a usage error (exit 2).
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return usageErr("unknown shell %q; expected bash, zsh, fish or powershell", args[0])
		}
		c.Example = "  dltrain completion bash > /etc/bash_completion.d/dltrain\n  source <(dltrain completion bash)"
		for _, sh := range c.Commands() {
			sh.Example = fmt.Sprintf("  dltrain completion %s > dltrain-completion.%s", sh.Name(), sh.Name())
		}
	}
	return root
}

// begin marks that a command's own work has started and checks the
// persistent flags.
func (a *app) begin() error {
	a.ran = true
	if a.logFormat != "text" && a.logFormat != "json" {
		return usageErr("--log-format must be text or json, got %q", a.logFormat)
	}
	return nil
}

func (a *app) isTerminal() bool {
	f, ok := a.stderr.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// execute runs the command line and returns the process exit code.
func execute(args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr, saveRequests: make(chan struct{}, 1), exit: os.Exit}
	ctx, stop := a.watchSignals()
	defer stop()
	root := newRootCommand(a)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	code := exitCode(err, a)
	if a.logFormat == "json" {
		b, _ := json.Marshal(map[string]any{"event": "error", "msg": err.Error(), "exit_code": code})
		fmt.Fprintln(stderr, string(b))
	} else {
		// Errors may quote a user's file: escape what a terminal would
		// interpret (JSON escapes it already).
		fmt.Fprintf(stderr, "dltrain: %s\n", data.Printable(err.Error()))
	}
	return code
}

// notice prints a message of the command itself (signals) on stderr, as
// a plain "dltrain: ..." line or, with --log-format json, a log event.
func (a *app) notice(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if a.logFormat == "json" {
		b, _ := json.Marshal(map[string]string{"event": "log", "msg": msg})
		fmt.Fprintln(a.stderr, string(b))
		return
	}
	fmt.Fprintln(a.stderr, "dltrain: "+data.Printable(msg))
}

// watchSignals cancels the context at the first SIGINT, SIGTERM or SIGHUP, so the
// training loop finishes its step and saves a checkpoint; a second signal
// exits at once. SIGUSR1 (where it exists) asks for a checkpoint and
// training goes on.
func (a *app) watchSignals() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	// SIGHUP (the terminal or ssh session closed) stops the run as
	// SIGTERM does, with a checkpoint, instead of killing it.
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	save := notifySave()
	go func() {
		for range save {
			select {
			case a.saveRequests <- struct{}{}:
				a.notice("checkpoint requested (SIGUSR1), saving after this step")
			default: // one is already pending
			}
		}
	}()
	go func() {
		first := true
		for s := range ch {
			if !first {
				a.notice("second %v, exiting now", s)
				a.exit(signalCode(s))
				return
			}
			first = false
			a.signal = s
			a.notice("%v received, stopping after this step (send it again to exit now)", s)
			cancel()
		}
	}()
	return ctx, func() { signal.Stop(ch); stopSave(save); cancel() }
}

// signalCode is the exit code of a run stopped by s: 128 + the signal's
// number, as a shell reports it (130 SIGINT, 143 SIGTERM, 129 SIGHUP).
func signalCode(s os.Signal) int {
	switch s {
	case syscall.SIGTERM:
		return 143
	case syscall.SIGHUP:
		return 129
	}
	return 130
}

// logOut is where a command's notes go: stderr as it is, or, with
// --log-format json, through a writer that turns each line into a log
// event.
func (a *app) logOut() io.Writer {
	if a.logFormat != "json" {
		return a.stderr
	}
	return &eventWriter{w: a.stderr}
}

// eventWriter writes each complete line written to it as a JSON log event.
type eventWriter struct {
	w   io.Writer
	buf []byte
}

func (e *eventWriter) Write(p []byte) (int, error) {
	e.buf = append(e.buf, p...)
	for {
		i := bytes.IndexByte(e.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		b, _ := json.Marshal(map[string]string{"event": "log", "msg": string(e.buf[:i])})
		if _, err := fmt.Fprintln(e.w, string(b)); err != nil {
			return len(p), err
		}
		e.buf = e.buf[i+1:]
	}
}
