package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	digest "github.com/opencontainers/go-digest"
)

const binaryPath = "/usr/local/bin/gokernels"

// finalStages are the images users run: name -> expected base image prefix.
// The CPU stage is last, so a plain `docker build .` builds it.
var finalStages = map[string]string{
	"cpu":  "gcr.io/distroless/static-debian12:nonroot",
	"cuda": "nvidia/cuda:",
}

type dockerfile struct {
	stages   []instructions.Stage
	metaArgs map[string]string
}

func parseDockerfile(t *testing.T) dockerfile {
	t.Helper()
	dt := readRepoFile(t, "Dockerfile")
	res, err := parser.Parse(bytes.NewReader(dt))
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	for _, w := range res.Warnings {
		t.Errorf("Dockerfile parser warning: %s", w.Short)
	}
	var lint []string
	stages, metaArgs, err := instructions.Parse(res.AST, linter.New(&linter.Config{
		Warn: func(rule, _, _, msg string, loc []parser.Range) {
			lint = append(lint, fmt.Sprintf("%s: %s (line %v)", rule, msg, loc))
		},
	}))
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	for _, l := range lint {
		t.Errorf("Dockerfile lint: %s", l)
	}
	df := dockerfile{stages: stages, metaArgs: map[string]string{}}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if kv.Value != nil {
				df.metaArgs[kv.Key] = *kv.Value
			}
		}
	}
	return df
}

func (df dockerfile) stage(t *testing.T, name string) instructions.Stage {
	t.Helper()
	for _, s := range df.stages {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("Dockerfile has no stage %q", name)
	return instructions.Stage{}
}

// base is the stage's FROM image with the global ARG defaults expanded.
func (df dockerfile) base(s instructions.Stage) string {
	return os.Expand(s.BaseName, func(k string) string { return df.metaArgs[k] })
}

func commandsOf[T instructions.Command](s instructions.Stage) []T {
	var out []T
	for _, c := range s.Commands {
		if v, ok := c.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

func lastOf[T instructions.Command](t *testing.T, s instructions.Stage, what string) T {
	t.Helper()
	cs := commandsOf[T](s)
	if len(cs) == 0 {
		var zero T
		t.Fatalf("stage %q has no %s", s.Name, what)
		return zero
	}
	return cs[len(cs)-1]
}

func TestDockerfileStages(t *testing.T) {
	df := parseDockerfile(t)
	var names []string
	for _, s := range df.stages {
		names = append(names, s.Name)
	}
	if last := df.stages[len(df.stages)-1].Name; last != "cpu" {
		t.Errorf("last stage (the default target) is %q, want cpu; stages %v", last, names)
	}
	for name, wantBase := range finalStages {
		if got := df.base(df.stage(t, name)); !strings.HasPrefix(got, wantBase) {
			t.Errorf("stage %s: FROM %s, want %s...", name, got, wantBase)
		}
	}

	// The build steps are the Makefile targets CI runs.
	builds := map[string]string{"build": "make build", "build-cuda": "make build-cuda"}
	makefile := string(readRepoFile(t, "Makefile"))
	for stage, cmd := range builds {
		var found bool
		for _, r := range commandsOf[*instructions.RunCommand](df.stage(t, stage)) {
			if strings.Contains(strings.Join(r.CmdLine, " "), cmd+" ") {
				found = true
			}
		}
		if !found {
			t.Errorf("stage %s: no RUN %s", stage, cmd)
		}
		target := strings.TrimPrefix(cmd, "make ")
		if !strings.Contains(makefile, "\n"+target+":") {
			t.Errorf("Makefile has no %q target (stage %s runs it)", target, stage)
		}
	}

	// CUDA: devel image to build, the matching base image to run.
	dev, run := df.base(df.stage(t, "build-cuda")), df.base(df.stage(t, "cuda"))
	if !strings.HasSuffix(dev, "-devel-ubuntu22.04") || !strings.HasSuffix(run, "-base-ubuntu22.04") ||
		strings.TrimSuffix(dev, "-devel-ubuntu22.04") != strings.TrimSuffix(run, "-base-ubuntu22.04") {
		t.Errorf("CUDA images do not match: build %s, run %s", dev, run)
	}
	if !strings.HasPrefix(df.metaArgs["CUDA_VERSION"], "12.") {
		t.Errorf("CUDA_VERSION = %q, want 12.x", df.metaArgs["CUDA_VERSION"])
	}

	// Each final image copies the binary its own build stage made.
	// (make build writes bin/gokernels, make build-cuda bin/gokernels-cuda.)
	from := map[string][2]string{"cpu": {"build", "/src/bin/gokernels"}, "cuda": {"build-cuda", "/src/bin/gokernels-cuda"}}
	for name, src := range from {
		var ok bool
		for _, c := range commandsOf[*instructions.CopyCommand](df.stage(t, name)) {
			if c.From == src[0] && c.DestPath == binaryPath && slices.Contains(c.SourcePaths, src[1]) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("stage %s: no COPY --from=%s %s %s", name, src[0], src[1], binaryPath)
		}
	}
}

func TestDockerfileRuntimeImages(t *testing.T) {
	df := parseDockerfile(t)
	for name := range finalStages {
		t.Run(name, func(t *testing.T) {
			s := df.stage(t, name)

			// USER: numeric (so Kubernetes' runAsNonRoot can verify it) and not root.
			user := lastOf[*instructions.UserCommand](t, s, "USER").User
			uid, _, _ := strings.Cut(user, ":")
			if n, err := strconv.Atoi(uid); err != nil || n == 0 {
				t.Errorf("USER %q: want a numeric non-root uid", user)
			}

			var ports []string
			for _, e := range commandsOf[*instructions.ExposeCommand](s) {
				ports = append(ports, e.Ports...)
			}
			for _, p := range []string{"8080", "50051"} {
				if !slices.Contains(ports, p) && !slices.Contains(ports, p+"/tcp") {
					t.Errorf("EXPOSE %v lacks %s", ports, p)
				}
			}

			ep := lastOf[*instructions.EntrypointCommand](t, s, "ENTRYPOINT")
			cmd := lastOf[*instructions.CmdCommand](t, s, "CMD")
			if ep.PrependShell || cmd.PrependShell {
				t.Errorf("ENTRYPOINT/CMD must use the exec (JSON) form: the image may have no shell, and signals must reach the server")
			}
			argv := append(slices.Clone(ep.CmdLine), cmd.CmdLine...)
			if !slices.Equal(argv, []string{binaryPath, "serve"}) {
				t.Errorf("ENTRYPOINT+CMD = %q, want [%s serve]", argv, binaryPath)
			}

			hc := lastOf[*instructions.HealthCheckCommand](t, s, "HEALTHCHECK").Health
			want := []string{"CMD", binaryPath, "health", "--addr", "127.0.0.1:50051"}
			if !slices.Equal(hc.Test, want) {
				t.Errorf("HEALTHCHECK %q, want %q", hc.Test, want)
			}
			if hc.Interval == 0 || hc.Timeout == 0 || hc.Retries == 0 {
				t.Errorf("HEALTHCHECK should set interval, timeout and retries: %+v", hc)
			}

			env := map[string]string{}
			for _, e := range commandsOf[*instructions.EnvCommand](s) {
				for _, kv := range e.Env {
					env[kv.Key] = kv.Value
				}
			}
			if env["GOKERNELS_ENV"] != "production" {
				t.Errorf("ENV GOKERNELS_ENV = %q, want production", env["GOKERNELS_ENV"])
			}

			// Durable rings: the data directory is a declared volume that
			// exists in the image owned by the non-root user (a fresh named
			// volume copies that ownership; the root filesystem may be
			// read-only).
			dataDir := env["GOKERNELS_DATA_DIR"]
			if !path.IsAbs(dataDir) {
				t.Fatalf("ENV GOKERNELS_DATA_DIR = %q, want an absolute path", dataDir)
			}
			var volumes []string
			for _, v := range commandsOf[*instructions.VolumeCommand](s) {
				volumes = append(volumes, v.Volumes...)
			}
			if !slices.Contains(volumes, dataDir) {
				t.Errorf("VOLUME %v does not declare GOKERNELS_DATA_DIR %s", volumes, dataDir)
			}
			var owned bool
			for _, c := range commandsOf[*instructions.CopyCommand](s) {
				if c.DestPath == dataDir && c.Chown == user {
					owned = true
				}
			}
			if !owned {
				t.Errorf("no COPY --chown=%s into %s: the non-root server could not write a fresh volume", user, dataDir)
			}
		})
	}
}

// fakeResolver answers image-config look-ups without a registry: an empty
// linux/amd64 image. Enough for buildkit to plan and lint every stage.
type fakeResolver struct{}

func (fakeResolver) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	cfg, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux",
		"config": map[string]any{"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
		"rootfs": map[string]any{"type": "layers"},
	})
	return ref, digest.FromBytes([]byte(ref)), cfg, nil
}

// TestDockerfileBuildCheck runs what `docker build --check` runs: buildkit
// converts every stage to its build graph and applies all its lint rules
// (undefined variables, stage references, casing, ...). Nothing is pulled.
func TestDockerfileBuildCheck(t *testing.T) {
	dt := readRepoFile(t, "Dockerfile")
	for _, target := range []string{"", "cpu", "cuda"} {
		opt := dockerfile2llb.ConvertOpt{
			Config:       dockerui.Config{Target: target},
			MetaResolver: fakeResolver{},
			SourceMap:    &llb.SourceMap{Filename: "Dockerfile", Language: "Dockerfile", Data: dt, Definition: &llb.Definition{}},
		}
		res, err := dockerfile2llb.DockerfileLint(context.Background(), dt, opt)
		if err != nil {
			t.Fatalf("target %q: %v", target, err)
		}
		if res.Error != nil {
			t.Errorf("target %q: build error: %s", target, res.Error.Message)
		}
		for _, w := range res.Warnings {
			t.Errorf("target %q: %s: %s", target, w.RuleName, w.Detail)
		}
	}
}

// TestDockerignoreKeepsBuildInputs checks that .dockerignore leaves in the
// build context every file the binary is built from (both build tags), and
// keeps out .git, bin/ and deploy/.
func TestDockerignoreKeepsBuildInputs(t *testing.T) {
	f, err := os.Open(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	excluded := func(rel string) bool {
		ok, err := pm.MatchesOrParentMatches(rel)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for _, p := range []string{".git", "bin/gokernels", "deploy/go.mod"} {
		if !excluded(p) {
			t.Errorf(".dockerignore should exclude %s", p)
		}
	}
	need := []string{"go.mod", "go.sum", "Makefile", "cmd/gokernels/main.go"}

	// Every source file of cmd/gokernels and its packages inside the repo.
	if _, err := exec.LookPath("go"); err != nil {
		t.Logf("go not on PATH: checking only %v", need)
	} else {
		abs, _ := filepath.Abs(repoRoot)
		for _, tags := range []string{"", "cuda"} {
			cmd := exec.Command("go", "list", "-e", "-deps", "-tags="+tags,
				"-f", `{{if not .Standard}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{range .CgoFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{range .EmbedFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{range .HFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{range .CFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{range .SFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{end}}`,
				"./cmd/gokernels")
			cmd.Dir = abs
			cmd.Env = append(os.Environ(), "GOWORK=off")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list: %v", err)
			}
			for _, line := range strings.Split(string(out), "\n") {
				if rel, err := filepath.Rel(abs, line); err == nil && line != "" && !strings.HasPrefix(rel, "..") {
					need = append(need, filepath.ToSlash(rel))
				}
			}
		}
	}
	for _, p := range need {
		if excluded(p) {
			t.Errorf(".dockerignore excludes %s, which the build needs", p)
		}
	}
}
