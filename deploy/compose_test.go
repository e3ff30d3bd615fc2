package deploy_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// loadCompose loads docker-compose.yml with the Compose specification's own
// loader (schema validation, interpolation, profiles), as `docker compose`
// does, with an empty environment so that the file's defaults apply.
func loadCompose(t *testing.T, profiles ...string) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{"docker-compose.yml"},
		cli.WithWorkingDirectory("."),
		cli.WithEnv([]string{}),
		cli.WithProfiles(profiles),
	)
	if err != nil {
		t.Fatal(err)
	}
	p, err := cli.ProjectFromOptions(context.Background(), opts)
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return p
}

func TestComposeProfiles(t *testing.T) {
	plain := loadCompose(t)
	if got := keys(plain.Services); !slices.Equal(got, []string{"gokernels"}) {
		t.Errorf("without profiles: services %v, want [gokernels]", got)
	}
	gpu := loadCompose(t, "gpu")
	if got := keys(gpu.Services); !slices.Equal(got, []string{"gokernels", "gokernels-gpu"}) {
		t.Errorf("with --profile gpu: services %v, want [gokernels gokernels-gpu]", got)
	}
}

func TestComposeServices(t *testing.T) {
	p := loadCompose(t, "gpu")
	defaults := settingDefaults(t)
	df := parseDockerfile(t)
	abs, _ := filepath.Abs(repoRoot)
	published := map[string]string{}

	for name, wantTarget := range map[string]string{"gokernels": "cpu", "gokernels-gpu": "cuda"} {
		s, ok := p.Services[name]
		if !ok {
			t.Fatalf("no service %s", name)
		}

		// Built from the repository's Dockerfile, at the stage of that name.
		if s.Build == nil || s.Build.Target != wantTarget {
			t.Errorf("%s: build %+v, want target %s", name, s.Build, wantTarget)
		} else {
			if s.Build.Context != abs {
				t.Errorf("%s: build context %s, want the repository root %s", name, s.Build.Context, abs)
			}
			df.stage(t, s.Build.Target)
		}

		// Ports: REST 8080 and gRPC 50051 in the container, host ports unique.
		targets := map[uint32]bool{}
		for _, port := range s.Ports {
			targets[port.Target] = true
			if other, dup := published[port.Published]; dup {
				t.Errorf("%s and %s both publish host port %s", name, other, port.Published)
			}
			published[port.Published] = name
		}
		for _, want := range []string{"GOKERNELS_HTTP_ADDR", "GOKERNELS_GRPC_ADDR"} {
			port := addrPort(defaults[want])
			if !targets[uint32(mustAtoi(t, port))] {
				t.Errorf("%s: no port mapping to container port %s (%s)", name, port, want)
			}
		}

		env := map[string]string{}
		for k, v := range s.Environment {
			if v != nil {
				env[k] = *v
			}
			if _, ok := defaults[k]; !ok {
				t.Errorf("%s: environment sets %s, which is not a setting in server/config/settings.go", name, k)
			}
		}
		if env["GOKERNELS_ENV"] != "production" {
			t.Errorf("%s: GOKERNELS_ENV = %q, want production", name, env["GOKERNELS_ENV"])
		}

		// API keys: a Compose secret, mounted at the path the setting names.
		keysFile := env["GOKERNELS_API_KEYS_FILE"]
		var mounted bool
		for _, sec := range s.Secrets {
			target := sec.Target
			if target == "" {
				target = "/run/secrets/" + sec.Source
			}
			if target == keysFile {
				mounted = true
				def, ok := p.Secrets[sec.Source]
				if !ok || def.File == "" {
					t.Errorf("%s: secret %s is not defined from a file", name, sec.Source)
				} else if _, err := os.Stat(def.File); err != nil {
					t.Errorf("%s: secret %s: %v", name, sec.Source, err)
				}
			}
		}
		if keysFile == "" || !mounted {
			t.Errorf("%s: GOKERNELS_API_KEYS_FILE=%q is not a mounted secret", name, keysFile)
		}

		// Hardening and a stop grace period that covers the drain.
		if !s.ReadOnly || !slices.Contains(s.CapDrop, "ALL") || !slices.Contains(s.SecurityOpt, "no-new-privileges:true") {
			t.Errorf("%s: want read_only, cap_drop ALL, no-new-privileges", name)
		}
		drain := duration(t, "GOKERNELS_DRAIN_GRACE", effective(defaults, env, "GOKERNELS_DRAIN_GRACE")) +
			duration(t, "GOKERNELS_DRAIN_TIMEOUT", effective(defaults, env, "GOKERNELS_DRAIN_TIMEOUT"))
		if s.StopGracePeriod == nil || time.Duration(*s.StopGracePeriod) <= drain {
			t.Errorf("%s: stop_grace_period %v must exceed drain grace + timeout %s", name, s.StopGracePeriod, drain)
		}

		// Durable rings: the image's data directory is a named volume, so
		// journals and snapshots survive the container (read_only root).
		if s.Build != nil {
			dataDir := env["GOKERNELS_DATA_DIR"]
			for _, e := range commandsOf[*instructions.EnvCommand](df.stage(t, s.Build.Target)) {
				for _, kv := range e.Env {
					if kv.Key == "GOKERNELS_DATA_DIR" && dataDir == "" {
						dataDir = kv.Value
					}
				}
			}
			if !slices.ContainsFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool {
				_, named := p.Volumes[v.Source]
				return v.Type == types.VolumeTypeVolume && v.Target == dataDir && named && !v.ReadOnly
			}) {
				t.Errorf("%s: GOKERNELS_DATA_DIR %q is not on a writable named volume: %+v", name, dataDir, s.Volumes)
			}
		}

		// GPU: only the gpu-profile service reserves an NVIDIA device.
		var gpus []types.DeviceRequest
		if s.Deploy != nil && s.Deploy.Resources.Reservations != nil {
			gpus = s.Deploy.Resources.Reservations.Devices
		}
		hasGPU := slices.ContainsFunc(gpus, func(d types.DeviceRequest) bool {
			return slices.Contains(d.Capabilities, "gpu") && d.Count >= 1
		})
		if isGPU := slices.Contains(s.Profiles, "gpu"); hasGPU != isGPU || isGPU != (wantTarget == "cuda") {
			t.Errorf("%s: profiles %v, GPU reservation %v: want the gpu profile service, and only it, to reserve a GPU", name, s.Profiles, hasGPU)
		}
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q is not a port number", s)
	}
	return n
}

// TestComposeClusterProfile checks the cluster-mode trial: a JetStream NATS
// node and two gokernels replicas pointed at it by service name and port,
// with distinct member names and host ports, built like the main service.
func TestComposeClusterProfile(t *testing.T) {
	p := loadCompose(t, "cluster")
	if got := keys(p.Services); !slices.Equal(got, []string{"gokernels", "gokernels-a", "gokernels-b", "nats"}) {
		t.Fatalf("with --profile cluster: services %v, want [gokernels gokernels-a gokernels-b nats]", got)
	}
	defaults := settingDefaults(t)
	nats := p.Services["nats"]
	conf := ""
	for _, c := range nats.Configs {
		if def, ok := p.Configs[c.Source]; ok && c.Target == "/etc/nats/nats.conf" {
			conf = def.Content
		}
	}
	if !strings.Contains(conf, "jetstream") || !strings.Contains(conf, "max_payload: 8MB") || !strings.Contains(conf, "port: 4222") {
		t.Errorf("nats config %q: want JetStream, client port 4222 and max_payload 8MB", conf)
	}
	members := map[string]bool{}
	hostPorts := map[string]bool{}
	for _, name := range []string{"gokernels-a", "gokernels-b"} {
		s := p.Services[name]
		env := map[string]string{}
		for k, v := range s.Environment {
			if v != nil {
				env[k] = *v
			}
			if _, ok := defaults[k]; !ok {
				t.Errorf("%s: environment sets %s, which is not a setting", name, k)
			}
		}
		if env["GOKERNELS_CLUSTER_NATS_URL"] != "nats://nats:4222" {
			t.Errorf("%s: GOKERNELS_CLUSTER_NATS_URL = %q, want nats://nats:4222", name, env["GOKERNELS_CLUSTER_NATS_URL"])
		}
		if env["GOKERNELS_CLUSTER_REPLICAS"] != "1" {
			t.Errorf("%s: one NATS node holds one copy: GOKERNELS_CLUSTER_REPLICAS = %q, want 1", name, env["GOKERNELS_CLUSTER_REPLICAS"])
		}
		if m := env["GOKERNELS_CLUSTER_MEMBER"]; m == "" || members[m] {
			t.Errorf("%s: member name %q empty or shared", name, m)
		}
		members[env["GOKERNELS_CLUSTER_MEMBER"]] = true
		if _, ok := s.DependsOn["nats"]; !ok {
			t.Errorf("%s does not depend on nats", name)
		}
		if s.Image != p.Services["gokernels"].Image {
			t.Errorf("%s: image %s, want the main service's %s", name, s.Image, p.Services["gokernels"].Image)
		}
		for _, port := range s.Ports {
			if hostPorts[port.Published] {
				t.Errorf("%s: host port %s used twice", name, port.Published)
			}
			hostPorts[port.Published] = true
		}
		if !s.ReadOnly || !slices.Contains(s.CapDrop, "ALL") {
			t.Errorf("%s: want the hardening of the main service", name)
		}
	}
}
