package main

import (
	"os"
	"os/exec"
	"testing"
)

// TestCrossBuild checks that the client and its library build for Windows
// and macOS: nothing Unix-only outside build-tagged files.
func TestCrossBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds for other systems")
	}
	for _, goos := range []string{"windows", "darwin"} {
		t.Run(goos, func(t *testing.T) {
			cmd := exec.Command("go", "build", "-o", os.DevNull, ".", "../../core/client")
			cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("GOOS=%s go build: %v\n%s", goos, err, out)
			}
		})
	}
}
