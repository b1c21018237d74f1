package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is the release's version, set at build time with
// -ldflags "-X github.com/forgehook/forgehook/internal/cli.Version=v1.2.3".
// Left at "dev", the version comes from the module's build information
// (go install github.com/forgehook/forgehook/cmd/forgehook@v1.2.3).
var Version = "dev"

// Commit is the VCS revision, set at build time with -ldflags "-X" where
// the build cannot record it itself (GOFLAGS=-buildvcs=false, a source
// archive); otherwise it comes from the build information.
var Commit = ""

// BuildInfo is what `forgehook version` prints.
type BuildInfo struct {
	// Version is the release version, or "dev" for a build from a clone.
	Version string
	// Commit is the VCS revision the binary was built from ("unknown"
	// when the build recorded none), with "-dirty" for a modified tree.
	Commit string
	// GoVersion is the Go toolchain that built the binary.
	GoVersion string
}

// ReadBuildInfo returns the version, commit and Go version of the running
// binary, from Version and the build information the Go toolchain embeds.
func ReadBuildInfo() BuildInfo {
	b := BuildInfo{Version: Version, Commit: "unknown", GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		if Commit != "" {
			b.Commit = Commit
		}
		return b
	}
	if b.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		b.Version = bi.Main.Version
	}
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && b.Commit != "unknown" {
		b.Commit += "-dirty"
	}
	if Commit != "" {
		b.Commit = Commit
	}
	return b
}

func runVersion(_ context.Context, env *Env, _ []string) error {
	b := ReadBuildInfo()
	fmt.Fprintf(env.Stdout, "forgehook %s\ncommit %s\ngo %s %s/%s\n", b.Version, b.Commit, b.GoVersion, runtime.GOOS, runtime.GOARCH)
	return nil
}
