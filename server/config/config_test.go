package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestPrecedenceFlagsOverEnvOverFileOverPreset(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(file, []byte("max_queue: 7\nmax_concurrency: 3\ndefault_timeout: 10s\ncors_origins: [a.example, b.example]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load([]string{"--config", file, "--max-queue", "9"}, env(map[string]string{
		"GOKERNELS_MAX_CONCURRENCY": "5", "GOKERNELS_ENV": "production", "GOKERNELS_API_KEYS_FILE": "/k",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxQueue != 9 || c.MaxConcurrency != 5 || c.DefaultTimeout != 10*time.Second {
		t.Fatalf("queue=%d conc=%d timeout=%s", c.MaxQueue, c.MaxConcurrency, c.DefaultTimeout)
	}
	if !c.Production() || !c.AuthEnabled || c.LogFormat != "json" || c.HTTPAddr != ":8080" {
		t.Fatalf("production preset not applied: %+v", c)
	}
	if strings.Join(c.CORSOrigins, ",") != "a.example,b.example" {
		t.Fatalf("cors %v", c.CORSOrigins)
	}
}

func TestDevelopmentDefaults(t *testing.T) {
	c, err := Load(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Env != "development" || c.AuthEnabled || c.HTTPAddr != "127.0.0.1:8080" || c.GRPCAddr != "127.0.0.1:50051" ||
		c.DefaultTimeout != 30*time.Second || c.MaxTimeout != 5*time.Minute || c.MaxRequestBytes != 10<<20 || c.MaxQueue != 1000 {
		t.Fatalf("defaults: %+v", c)
	}
	if c.EffectiveConcurrency() < 1 {
		t.Fatal("concurrency < 1")
	}
}

func TestInvalidSettingsNameThemselves(t *testing.T) {
	cases := map[string]map[string]string{
		"GOKERNELS_DEFAULT_TIMEOUT": {"GOKERNELS_DEFAULT_TIMEOUT": "soon"},
		"GOKERNELS_MAX_QUEUE":       {"GOKERNELS_MAX_QUEUE": "-1"},
		"GOKERNELS_ENV":             {"GOKERNELS_ENV": "staging"},
		"GOKERNELS_LOG_FORMAT":      {"GOKERNELS_LOG_FORMAT": "xml"},
		"GOKERNELS_MAX_TIMEOUT":     {"GOKERNELS_DEFAULT_TIMEOUT": "10m"},
		"GOKERNELS_AUTH":            {"GOKERNELS_AUTH": "true"},
		"GOKERNELS_TLS_KEY":         {"GOKERNELS_TLS_CERT": "/c"},
		"GOKERNELS_HTTP_PREFIX":     {"GOKERNELS_HTTP_PREFIX": "api/"},
	}
	for name, e := range cases {
		_, err := Load(nil, env(e))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: err=%v, want it to name %s", e, err, name)
		}
	}
}

func TestPrintRedactsSecrets(t *testing.T) {
	c, err := Load(nil, env(map[string]string{"GOKERNELS_JWT_SECRET": "hunter2"}))
	if err != nil {
		t.Fatal(err)
	}
	out := c.Print()
	if strings.Contains(out, "hunter2") || !strings.Contains(out, "GOKERNELS_JWT_SECRET") || !strings.Contains(out, "[redacted]") {
		t.Fatalf("print:\n%s", out)
	}
}

// The README's configuration table is generated from the settings table
// (`make docs`); this fails when they drift apart.
func TestREADMEDocumentsEverySetting(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const start, end = "<!-- config-table:start -->\n", "<!-- config-table:end -->"
	s := string(b)
	i, j := strings.Index(s, start), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatal("README.md lacks the config-table markers")
	}
	if got := s[i+len(start) : j]; got != MarkdownTable() {
		t.Fatalf("README configuration table is stale; run `make docs`")
	}
}
