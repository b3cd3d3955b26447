package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// modulePath is the module whose server a comparison builds.
const modulePath = "github.com/pubsubx/pubsubx"

// ErrNoModule is returned by ModuleRoot outside the PubSubX source tree.
var ErrNoModule = errors.New("loadgen: not inside the PubSubX source tree (give -server-bin)")

// ModuleRoot finds the PubSubX module's root from dir upwards.
func ModuleRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && bytes.HasPrefix(bytes.TrimSpace(b), []byte("module "+modulePath)) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", ErrNoModule
		}
	}
}

// BuildServer builds cmd/pubsubx-server of the module at root into dir
// and returns the binary's path.
func BuildServer(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "pubsubx-server")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/pubsubx-server")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("loadgen: building pubsubx-server: %w\n%s", err, out)
	}
	return bin, nil
}

// Commit describes the source at root: the commit, with "+dirty" when
// tracked files outside results/ have changes (the measurements a run
// writes there are not the source it measured); "" outside a git work tree.
func Commit(root string) string {
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	head := git("rev-parse", "--short=12", "HEAD")
	if head == "" {
		return ""
	}
	if git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)results") != "" {
		head += "+dirty"
	}
	return head
}
