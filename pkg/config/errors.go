package config

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is wrapped by every error that reports a bad experiment, so
// callers can tell a user's mistake (exit code 2) from an internal failure.
var ErrInvalid = errors.New("invalid experiment")

// Pos is where a key was set: a file position, or the override that set it.
type Pos struct {
	File   string // config file, or "" when the value did not come from a file
	Line   int    // 1-based; 0 when unknown
	Col    int    // 1-based; 0 when unknown
	Origin string // "file", "env DLTRAIN_X", "--set", or "default"
}

// String formats the position as file:line:col, or the override's name.
func (p Pos) String() string {
	switch {
	case p.File != "" && p.Line > 0:
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	case p.Origin == "file" && p.File != "":
		return p.File // a key the file lacks: the file, without a line
	case p.Origin == "file" || p.Origin == "default":
		return "" // said by the key itself ("is required")
	case p.Origin != "":
		return p.Origin
	case p.File != "":
		return p.File
	}
	return ""
}

// Problem is one thing wrong with an experiment, at one key path.
type Problem struct {
	Key string // dotted key path, e.g. "train.optimizer.lr" or "model.layers[2].units"
	Pos Pos
	Msg string
}

func (p *Problem) Error() string {
	where := p.Pos.String()
	switch {
	case where != "" && p.Key != "":
		return fmt.Sprintf("%s: %s: %s", where, p.Key, p.Msg)
	case p.Key != "":
		return fmt.Sprintf("%s: %s", p.Key, p.Msg)
	case where != "":
		return fmt.Sprintf("%s: %s", where, p.Msg)
	}
	return p.Msg
}

// Unwrap lets errors.Is(err, ErrInvalid) hold for every problem.
func (p *Problem) Unwrap() error { return ErrInvalid }

// Problems is every problem found in one experiment. It is an error.
type Problems []*Problem

func (ps Problems) Error() string {
	if len(ps) == 1 {
		return ps[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems in the experiment:", len(ps))
	for _, p := range ps {
		b.WriteString("\n  ")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap lets errors.Is(err, ErrInvalid) and errors.As(err, **Problem) work.
func (ps Problems) Unwrap() []error {
	errs := make([]error, 0, len(ps)+1)
	errs = append(errs, ErrInvalid)
	for _, p := range ps {
		errs = append(errs, p)
	}
	return errs
}

// Err returns ps as an error, or nil when there is no problem.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// closest returns the candidate nearest to s by edit distance, or "" when
// none is near enough to be a plausible typo.
func closest(s string, candidates []string) string {
	best, bestD := "", len(s)/2+2
	for _, c := range candidates {
		d := editDistance(s, c)
		// On a tie, prefer the candidate sharing the longer prefix:
		// "unit" means "units" more likely than "init".
		if d < bestD || (d == bestD && best != "" && commonPrefix(s, c) > commonPrefix(s, best)) {
			best, bestD = c, d
		}
	}
	return best
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// editDistance is the Damerau–Levenshtein (optimal string alignment) distance.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// suggest formats a "did you mean" hint, or "" when there is none.
func suggest(s string, candidates []string) string {
	if c := closest(s, candidates); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}
