package deploy_test

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// repoRoot is the gokernels repository (this module lives in deploy/).
const repoRoot = ".."

func readRepoFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// settingDefaults reads server/config/settings.go, the single definition of
// every GOKERNELS_* setting, and returns env var -> production default.
// Parsing the source (rather than importing the package) keeps this module
// independent of the server's dependencies.
func settingDefaults(t *testing.T) map[string]string {
	t.Helper()
	src := string(readRepoFile(t, "server/config/settings.go"))
	out := map[string]string{}
	envRe := regexp.MustCompile(`\{key: "env", def: "([^"]*)", prod: "([^"]*)"`)
	addRe := regexp.MustCompile(`\badd\("([a-z0-9_]+)", "([^"]*)", "([^"]*)",`)
	limRe := regexp.MustCompile(`\blim\("([a-z0-9_]+)", "([^"]*)",`)
	if m := envRe.FindStringSubmatch(src); m != nil {
		out["GOKERNELS_ENV"] = m[2]
	}
	for _, m := range addRe.FindAllStringSubmatch(src, -1) {
		prod := m[3]
		if prod == "" {
			prod = m[2]
		}
		out["GOKERNELS_"+strings.ToUpper(m[1])] = prod
	}
	for _, m := range limRe.FindAllStringSubmatch(src, -1) {
		out["GOKERNELS_"+strings.ToUpper(m[1])] = m[2]
	}
	for _, must := range []string{"GOKERNELS_ENV", "GOKERNELS_HTTP_ADDR", "GOKERNELS_GRPC_ADDR", "GOKERNELS_DRAIN_GRACE", "GOKERNELS_DRAIN_TIMEOUT", "GOKERNELS_API_KEYS_FILE", "GOKERNELS_MAX_NODES"} {
		if _, ok := out[must]; !ok {
			t.Fatalf("settings.go: could not find %s; has the settings table changed shape? found %v", must, keys(out))
		}
	}
	return out
}

// effective is the value a setting takes in production given explicit
// environment values env (ConfigMap, compose environment).
func effective(defaults, env map[string]string, name string) string {
	if v, ok := env[name]; ok {
		return v
	}
	return defaults[name]
}

func duration(t *testing.T, name, v string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return d
}

// restGetPaths returns the REST GET paths declared in a proto file's
// google.api.http options, e.g. /health/ready.
func restGetPaths(t *testing.T, rel string) map[string]bool {
	t.Helper()
	re := regexp.MustCompile(`\bget:\s*"([^"]+)"`)
	out := map[string]bool{}
	for _, m := range re.FindAllStringSubmatch(string(readRepoFile(t, rel)), -1) {
		out[m[1]] = true
	}
	if len(out) == 0 {
		t.Fatalf("%s: no `get:` paths found", rel)
	}
	return out
}

// addrPort is the port of a listen address such as ":8080" or "0.0.0.0:50051".
func addrPort(addr string) string {
	return addr[strings.LastIndex(addr, ":")+1:]
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
