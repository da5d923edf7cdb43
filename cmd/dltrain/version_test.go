package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

func TestBuildVersion(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	const rev = "7907e59c1a2b3c4d5e6f7907e59c1a2b3c4d5e6f"
	for _, c := range []struct {
		name, ldflags string
		bi            *debug.BuildInfo
		want          string
	}{
		{"set with -ldflags", "v1.2.3", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "true")}, "v1.2.3"},
		{"go install module@version", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.4.0"}}, "v0.4.0"},
		{"a checkout, stamped by the go command", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261204161817-7907e59c1a2b+dirty"}, Settings: vcs(rev, "true")}, "v0.0.0-20261204161817-7907e59c1a2b+dirty"},
		{"a clean checkout", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "false")}, "7907e59c1a2b"},
		{"a checkout with changes", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "true")}, "7907e59c1a2b-dirty"},
		{"no VCS information", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
		{"no build information", "", nil, "dev"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := buildVersion(c.ldflags, c.bi); got != c.want {
				t.Errorf("buildVersion = %q, want %q", got, c.want)
			}
		})
	}
}

// TestVersionOfAPlainBuild: a binary built without -ldflags, as `go
// install ./cmd/dltrain` builds it in a clone, reports the checkout's
// revision, not "dev". It is skipped where the toolchain records no
// revision: outside git, or in a git worktree (whose .git is a file, which
// the go command does not take for a repository).
func TestVersionOfAPlainBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout (%v): a build records no revision", err)
	}
	bin := filepath.Join(t.TempDir(), "dltrain")
	// -buildvcs=auto: the go command's default, whatever GOFLAGS says.
	if out, err := exec.Command("go", "build", "-buildvcs=auto", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	info, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(info), "vcs.revision=") {
		t.Skip("the go command recorded no revision in this checkout (a git worktree?)")
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	first := strings.SplitN(string(out), "\n", 2)[0]
	// The go command turns the revision into a pseudo-version
	// (v0.0.0-20261204161817-6ce73491252d, +dirty with changes).
	rev := strings.TrimSpace(string(head))[:12]
	if !regexp.MustCompile(`^dltrain \S*` + rev + `\S*$`).MatchString(first) {
		t.Errorf("version of a plain build: %q, want a version naming the revision %s", first, rev)
	}
}
