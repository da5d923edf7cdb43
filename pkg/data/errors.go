package data

import (
	"errors"
	"fmt"
)

// ErrBadData is wrapped by every error caused by the data a user supplied
// (exit code 2), as opposed to an internal failure.
var ErrBadData = errors.New("bad data")

// Error is a problem at one place in a data file.
type Error struct {
	File   string
	Line   int    // 1-based; 0 when the problem is not on one line
	Column int    // 1-based; 0 when the problem is not in one column
	Entry  int    // 1-based item of a binary file (image, label, array row); 0 when none
	Field  string // column or entry name, when known
	Msg    string
	// Err is the system's error behind the problem (permission denied,
	// an I/O error), when one is: errors.Is finds it, so that a machine's
	// failure can be told from bad data.
	Err error
}

// Error names the place, then the problem; text from the user's file in
// it is escaped (Printable), so no raw control byte reaches a terminal.
func (e *Error) Error() string {
	where := e.place()
	if e.Field != "" {
		return Printable(fmt.Sprintf("%s: column %q: %s", where, e.Field, e.Msg))
	}
	return Printable(fmt.Sprintf("%s: %s", where, e.Msg))
}

// place is where the problem is: "file:line:column", "file: entry n" or
// "file".
func (e *Error) place() string {
	where := e.File
	if e.Line > 0 {
		where += fmt.Sprintf(":%d", e.Line)
		if e.Column > 0 {
			where += fmt.Sprintf(":%d", e.Column)
		}
	}
	if e.Entry > 0 {
		where += fmt.Sprintf(": entry %d", e.Entry)
	}
	return where
}

// Unwrap makes errors.Is(err, ErrBadData) hold, and finds the system's
// error behind it, if any.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrBadData, e.Err}
	}
	return []error{ErrBadData}
}

func badf(file string, line, col int, field, format string, args ...any) *Error {
	return &Error{File: file, Line: line, Column: col, Field: field, Msg: fmt.Sprintf(format, args...), Err: cause(args)}
}

// badEntry is a problem with the entry-th item (1-based) of a binary file.
func badEntry(file string, entry int, format string, args ...any) *Error {
	return &Error{File: file, Entry: entry, Msg: fmt.Sprintf(format, args...), Err: cause(args)}
}

// badFile is a problem with a whole file.
func badFile(file, format string, args ...any) *Error {
	return &Error{File: file, Msg: fmt.Sprintf(format, args...), Err: cause(args)}
}

// cause is the first error among a message's arguments ("cannot read:
// %v", err), kept as Error.Err.
func cause(args []any) error {
	for _, a := range args {
		if err, ok := a.(error); ok {
			return err
		}
	}
	return nil
}
