package config

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// setting is one configuration knob: its YAML key (flag and environment
// variable names derive from it), its development default, its production
// default when different, and how to read and show it.
type setting struct {
	key    string
	def    string
	prod   string // "" = same as def
	secret bool
	help   string
	set    func(c *Config, v string) error
	get    func(c *Config) string
}

// env is the environment variable, e.g. GOKERNELS_HTTP_ADDR.
func (s setting) env() string { return "GOKERNELS_" + strings.ToUpper(s.key) }

// flag is the command-line flag, e.g. --http-addr.
func (s setting) flag() string { return strings.ReplaceAll(s.key, "_", "-") }

func byKey(k string) *setting {
	for i := range settings {
		if settings[i].key == k {
			return &settings[i]
		}
	}
	return nil
}

func str(field func(*Config) *string) (func(*Config, string) error, func(*Config) string) {
	return func(c *Config, v string) error { *field(c) = v; return nil },
		func(c *Config) string { return *field(c) }
}

func dur(field func(*Config) *time.Duration, min time.Duration) (func(*Config, string) error, func(*Config) string) {
	return func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%q is not a duration such as 30s or 5m", v)
			}
			if d < min {
				return fmt.Errorf("%s is below the minimum %s", d, min)
			}
			*field(c) = d
			return nil
		},
		func(c *Config) string { return field(c).String() }
}

func integer(field func(*Config) *int, min int) (func(*Config, string) error, func(*Config) string) {
	return func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("%q is not an integer", v)
			}
			if n < min {
				return fmt.Errorf("%d is below the minimum %d", n, min)
			}
			*field(c) = n
			return nil
		},
		func(c *Config) string { return strconv.Itoa(*field(c)) }
}

func number(field func(*Config) *float64) (func(*Config, string) error, func(*Config) string) {
	return func(c *Config, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 {
				return fmt.Errorf("%q is not a non-negative number", v)
			}
			*field(c) = f
			return nil
		},
		func(c *Config) string { return strconv.FormatFloat(*field(c), 'g', -1, 64) }
}

func boolean(field func(*Config) *bool) (func(*Config, string) error, func(*Config) string) {
	return func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%q is not true or false", v)
			}
			*field(c) = b
			return nil
		},
		func(c *Config) string { return strconv.FormatBool(*field(c)) }
}

func oneOf(field func(*Config) *string, allowed ...string) (func(*Config, string) error, func(*Config) string) {
	return func(c *Config, v string) error {
			v = strings.ToLower(v)
			for _, a := range allowed {
				if v == a {
					*field(c) = v
					return nil
				}
			}
			return fmt.Errorf("%q is not one of %s", v, strings.Join(allowed, ", "))
		},
		func(c *Config) string { return *field(c) }
}

func list(field func(*Config) *[]string) (func(*Config, string) error, func(*Config) string) {
	return func(c *Config, v string) error {
			*field(c) = nil
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" && p != "-" {
					*field(c) = append(*field(c), p)
				}
			}
			return nil
		},
		func(c *Config) string { return strings.Join(*field(c), ",") }
}

func bytesize(field func(*Config) *int64) (func(*Config, string) error, func(*Config) string) {
	return func(c *Config, v string) error {
			n, err := parseBytes(v)
			if err != nil {
				return err
			}
			*field(c) = n
			return nil
		},
		func(c *Config) string { return strconv.FormatInt(*field(c), 10) }
}

// parseBytes reads "1048576", "512MiB", "8GiB", "10MB".
func parseBytes(v string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(v, u.suffix) {
			v, mult = strings.TrimSpace(strings.TrimSuffix(v, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size such as 10485760 or 10MiB", v)
	}
	return n * mult, nil
}

func mk(key, def, prod, help string, secret bool, set func(*Config, string) error, get func(*Config) string) setting {
	return setting{key: key, def: def, prod: prod, help: help, secret: secret, set: set, get: get}
}

// settings is the whole configuration surface. Keep it in sync with the
// README table: TestREADMEDocumentsEverySetting fails otherwise.
var settings = func() []setting {
	s := []setting{{key: "env", def: "development", prod: "production", help: "preset: development or production"}}
	add := func(key, def, prod, help string, secret bool, f func(*Config, string) error, g func(*Config) string) {
		s = append(s, mk(key, def, prod, help, secret, f, g))
	}
	var f func(*Config, string) error
	var g func(*Config) string

	f, g = str(func(c *Config) *string { return &c.HTTPAddr })
	add("http_addr", "127.0.0.1:8080", ":8080", "REST and gRPC-over-h2c listen address", false, f, g)
	f, g = str(func(c *Config) *string { return &c.GRPCAddr })
	add("grpc_addr", "127.0.0.1:50051", ":50051", "native gRPC listen address", false, f, g)
	f, g = str(func(c *Config) *string { return &c.HTTPPrefix })
	add("http_prefix", "", "", "serve REST under this path prefix (e.g. /api/v1); empty = root", false, f, g)
	f, g = dur(func(c *Config) *time.Duration { return &c.DefaultTimeout }, time.Millisecond)
	add("default_timeout", "30s", "", "deadline for requests that set none", false, f, g)
	f, g = dur(func(c *Config) *time.Duration { return &c.MaxTimeout }, time.Millisecond)
	add("max_timeout", "5m", "", "cap on every request deadline", false, f, g)
	f, g = integer(func(c *Config) *int { return &c.MaxRequestBytes }, 1024)
	add("max_request_bytes", "10485760", "", "largest request body / gRPC message accepted (413 / RESOURCE_EXHAUSTED)", false, f, g)
	f, g = bytesize(func(c *Config) *int64 { return &c.MaxResponseBytes })
	add("max_response_bytes", "64MiB", "", "largest kernel output (its protobuf size; JSON is at most 3×), checked before it is encoded: "+
		"over it 413 / RESOURCE_EXHAUSTED", false, f, g)
	f, g = bytesize(func(c *Config) *int64 { return &c.MemoryBudget })
	add("memory_budget", "0", "", "memory the estimated working sets of running requests may add up to, else 429 + Retry-After; "+
		"0 = a quarter of the cgroup (or host) memory limit", false, f, g)
	f, g = integer(func(c *Config) *int { return &c.MaxConcurrency }, 0)
	add("max_concurrency", "0", "", "kernels executing at once; 0 = number of CPUs", false, f, g)
	f, g = integer(func(c *Config) *int { return &c.MaxQueue }, 0)
	add("max_queue", "1000", "", "requests waiting for a worker before 429", false, f, g)
	f, g = integer(func(c *Config) *int { return &c.QuarantineAfter }, 0)
	add("quarantine_after", "5", "", "panics of one kernel within quarantine_window that quarantine it: its calls answer 503 / UNAVAILABLE "+
		"with Retry-After for quarantine_for, other kernels are unaffected; 0 = never", false, f, g)
	f, g = dur(func(c *Config) *time.Duration { return &c.QuarantineWindow }, time.Millisecond)
	add("quarantine_window", "30s", "", "window in which quarantine_after panics of one kernel quarantine it", false, f, g)
	f, g = dur(func(c *Config) *time.Duration { return &c.QuarantineFor }, time.Millisecond)
	add("quarantine_for", "15s", "", "how long a quarantined kernel is refused", false, f, g)
	f, g = number(func(c *Config) *float64 { return &c.RateLimitRPS })
	add("rate_limit_rps", "0", "", "global requests per second; 0 disables", false, f, g)
	f, g = integer(func(c *Config) *int { return &c.RateLimitBurst }, 0)
	add("rate_limit_burst", "0", "", "global burst; 0 = max(1, rps)", false, f, g)
	f, g = number(func(c *Config) *float64 { return &c.ClientRateLimitRPS })
	add("client_rate_limit_rps", "0", "", "per-client requests per second (authenticated principal, else client address); 0 disables", false, f, g)
	f, g = integer(func(c *Config) *int { return &c.ClientRateLimitBurst }, 0)
	add("client_rate_limit_burst", "0", "", "per-client burst; 0 = max(1, rps)", false, f, g)
	f, g = list(func(c *Config) *[]string { return &c.TrustedProxies })
	add("trusted_proxies", "", "", "comma-separated proxy CIDRs whose X-Forwarded-For (rightmost untrusted) and X-Tenant-ID name the client for rate limits; empty = none", false, f, g)
	f, g = boolean(func(c *Config) *bool { return &c.AuthEnabled })
	add("auth", "false", "true", "require credentials (API key or JWT) for kernel and admin calls", false, f, g)
	f, g = str(func(c *Config) *string { return &c.APIKeysFile })
	add("api_keys_file", "", "", "file of `key role [tenant]` lines (key may be sha256:<hex>)", false, f, g)
	f, g = str(func(c *Config) *string { return &c.JWTSecret })
	add("jwt_secret", "", "", "HS256 secret for JWT bearer tokens", true, f, g)
	f, g = str(func(c *Config) *string { return &c.JWTPublicKey })
	add("jwt_public_key", "", "", "PEM file with the RS256/ES256 public key for JWTs", false, f, g)
	f, g = str(func(c *Config) *string { return &c.JWKSFile })
	add("jwks_file", "", "", "JWKS file with the keys for JWTs", false, f, g)
	f, g = str(func(c *Config) *string { return &c.JWTIssuer })
	add("jwt_issuer", "", "", "required JWT issuer (iss); empty = not checked", false, f, g)
	f, g = str(func(c *Config) *string { return &c.JWTAudience })
	add("jwt_audience", "", "", "required JWT audience (aud); empty = not checked", false, f, g)
	f, g = str(func(c *Config) *string { return &c.TLSCert })
	add("tls_cert", "", "", "PEM certificate: enables TLS on both ports", false, f, g)
	f, g = str(func(c *Config) *string { return &c.TLSKey })
	add("tls_key", "", "", "PEM private key for tls_cert", false, f, g)
	f, g = str(func(c *Config) *string { return &c.TLSClientCA })
	add("tls_client_ca", "", "", "PEM CA bundle: require client certificates (mTLS)", false, f, g)
	f, g = list(func(c *Config) *[]string { return &c.CORSOrigins })
	add("cors_origins", "*", "-", "comma-separated allowed CORS origins; * = any; empty or - = none", false, f, g)
	f, g = oneOf(func(c *Config) *string { return &c.LogLevel }, "debug", "info", "warn", "error")
	add("log_level", "info", "", "debug, info, warn or error", false, f, g)
	f, g = oneOf(func(c *Config) *string { return &c.LogFormat }, "text", "json")
	add("log_format", "text", "json", "text or json", false, f, g)
	f, g = dur(func(c *Config) *time.Duration { return &c.DrainGrace }, 0)
	add("drain_grace", "5s", "", "after SIGTERM, time readiness fails before new requests are refused", false, f, g)
	f, g = dur(func(c *Config) *time.Duration { return &c.DrainTimeout }, 0)
	add("drain_timeout", "30s", "", "time in-flight requests get to finish during a drain", false, f, g)
	f, g = str(func(c *Config) *string { return &c.OTLPEndpoint })
	add("otlp_endpoint", "", "", "OpenTelemetry collector endpoint; empty = no trace export", false, f, g)
	f, g = oneOf(func(c *Config) *string { return &c.OTLPProtocol }, "grpc", "http")
	add("otlp_protocol", "grpc", "", "OTLP transport: grpc or http", false, f, g)
	f, g = str(func(c *Config) *string { return &c.PprofAddr })
	add("pprof_addr", "", "", "serve net/http/pprof on this loopback address (e.g. 127.0.0.1:6060); empty = off", false, f, g)
	f, g = bytesize(func(c *Config) *int64 { return &c.GPUMemLimit })
	add("gpu_memory_limit", "0", "", "device-memory budget for the CUDA backend; 0 = 90% of the device", false, f, g)

	f, g = str(func(c *Config) *string { return &c.DataDir })
	add("data_dir", "./data", "", "directory of durable rings (journals, snapshots); created on first use; empty = rings in memory only", false, f, g)
	f, g = dur(func(c *Config) *time.Duration { return &c.RingIdleTimeout }, 0)
	add("ring_idle_timeout", "15m", "", "a ring with no message for this long is snapshotted and unloaded (NONE rings are evicted); 0 = never", false, f, g)
	f, g = integer(func(c *Config) *int { return &c.MaxRings }, 1)
	add("max_rings", "10000", "", "active rings on this server", false, f, g)
	f, g = integer(func(c *Config) *int { return &c.MaxRingsPerTenant }, 1)
	add("max_rings_per_tenant", "1000", "", "rings one tenant may have, active or passivated", false, f, g)

	f, g = str(func(c *Config) *string { return &c.ClusterNATSURL })
	add("cluster_nats_url", "", "", "cluster mode: NATS server list (nats://a:4222,nats://b:4222) whose JetStream holds the rings' "+
		"replicated logs, leases and snapshots; any replica serves any ring; empty = single node (rings in data_dir)", false, f, g)
	f, g = integer(func(c *Config) *int { return &c.ClusterPartitions }, 1)
	add("cluster_partitions", "8", "", "cluster mode: fixed number of ring partitions (the same on every replica)", false, f, g)
	f, g = integer(func(c *Config) *int { return &c.ClusterReplicas }, 1)
	add("cluster_replicas", "3", "", "cluster mode: JetStream replicas of the ring logs and the ring bucket (1 for a single NATS server)", false, f, g)
	f, g = str(func(c *Config) *string { return &c.ClusterMember })
	add("cluster_member", "", "", "cluster mode: this replica's name; empty = the host name (the pod name)", false, f, g)

	lim := func(key, def, help string, field func(*Config) *int) {
		f, g := integer(field, 1)
		add(key, def, "", help, false, f, g)
	}
	lim("max_nodes", "5000000", "largest graph (nodes) a request may ask for", func(c *Config) *int { return &c.Limits.MaxNodes })
	lim("max_edges", "20000000", "largest graph (edges)", func(c *Config) *int { return &c.Limits.MaxEdges })
	lim("max_all_pairs_nodes", "5000", "largest graph for all-pairs outputs (n² values)", func(c *Config) *int { return &c.Limits.MaxAllPairsN })
	lim("max_samples", "2000000", "largest ml data set (rows)", func(c *Config) *int { return &c.Limits.MaxSamples })
	lim("max_features", "10000", "widest ml data set (columns)", func(c *Config) *int { return &c.Limits.MaxFeatures })
	lim("max_cells", "50000000", "largest ml data set (rows × columns)", func(c *Config) *int { return &c.Limits.MaxCells })
	lim("max_series_length", "5000000", "longest time series", func(c *Config) *int { return &c.Limits.MaxSeriesLength })
	lim("max_simulations", "2000000000", "Monte Carlo paths × assets per request", func(c *Config) *int { return &c.Limits.MaxSimulations })
	lim("max_output_items", "1000000", "longest list output (top-k pairs, enumerated cliques)", func(c *Config) *int { return &c.Limits.MaxOutputItems })
	lim("max_iterations", "1000000", "largest iteration count a request may ask for", func(c *Config) *int { return &c.Limits.MaxIterations })
	return s
}()

// Settings describes every setting for documentation: env var, flag,
// development default, production default and help.
type SettingDoc struct {
	Env, Flag, Default, Production, Help string
}

// Docs lists the settings in table order.
func Docs() []SettingDoc {
	out := make([]SettingDoc, 0, len(settings))
	for _, s := range settings {
		prod := s.prod
		if prod == "" {
			prod = s.def
		}
		out = append(out, SettingDoc{Env: s.env(), Flag: "--" + s.flag(), Default: s.def, Production: prod, Help: s.help})
	}
	return out
}

// EffectiveConcurrency resolves MaxConcurrency 0 to the CPU count.
func (c *Config) EffectiveConcurrency() int {
	if c.MaxConcurrency > 0 {
		return c.MaxConcurrency
	}
	return runtime.GOMAXPROCS(0)
}

// MarkdownTable renders the settings as the README's configuration table.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| Environment variable | Flag | Development | Production | Meaning |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, d := range Docs() {
		fmt.Fprintf(&b, "| `%s` | `%s` | `%s` | `%s` | %s |\n", d.Env, d.Flag, show(d.Default), show(d.Production), strings.ReplaceAll(d.Help, "|", "\\|"))
	}
	return b.String()
}

func show(v string) string {
	if v == "" {
		return "(empty)"
	}
	return v
}

// EffectiveMemoryBudget resolves MemoryBudget 0 to a quarter of the memory
// the process may use: the cgroup limit when there is one, else the host's
// memory. A quarter leaves room for the garbage collector's headroom (the
// heap may grow to twice the live data) and for what the estimates miss.
func (c *Config) EffectiveMemoryBudget() int64 {
	if c.MemoryBudget > 0 {
		return c.MemoryBudget
	}
	if m := memoryLimit(); m > 0 {
		return m / 4
	}
	return 0
}

// memoryLimit reads the cgroup v2 or v1 memory limit, else MemTotal.
func memoryLimit() int64 {
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if b, err := os.ReadFile(p); err == nil {
			if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && n < 1<<60 {
				return n
			}
		}
	}
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) != 2 || f[1] != "kB" {
				return 0
			}
			if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				return n << 10
			}
		}
	}
	return 0
}
