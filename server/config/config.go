// Package config loads the server's settings.
//
// Precedence, highest first: command-line flags, GOKERNELS_* environment
// variables, the optional YAML config file (--config), then the preset of the
// environment (GOKERNELS_ENV=development|production). Every setting is one row
// of the table in settings.go, which is also what `gokernels config print`
// and the README's configuration table are made from, so the three cannot
// drift apart. An invalid value stops start-up with an error naming it.
package config

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gokernels/gokernels/kernels/limits"
)

// Config is the effective configuration.
type Config struct {
	Env        string
	HTTPAddr   string
	GRPCAddr   string
	HTTPPrefix string

	DefaultTimeout  time.Duration
	MaxTimeout      time.Duration
	MaxRequestBytes int
	// MaxResponseBytes caps a kernel output's protobuf size.
	MaxResponseBytes int64
	// MemoryBudget is what the estimated working sets of running requests
	// may add up to; 0 = a quarter of the memory limit (see
	// EffectiveMemoryBudget).
	MemoryBudget int64

	MaxConcurrency int
	MaxQueue       int
	// QuarantineAfter panics of one kernel within QuarantineWindow
	// quarantine it for QuarantineFor (0: never).
	QuarantineAfter  int
	QuarantineWindow time.Duration
	QuarantineFor    time.Duration

	RateLimitRPS         float64
	RateLimitBurst       int
	ClientRateLimitRPS   float64
	ClientRateLimitBurst int
	TrustedProxies       []string // CIDRs whose X-Forwarded-For / X-Tenant-ID are believed

	AuthEnabled  bool
	APIKeysFile  string
	JWTSecret    string
	JWTPublicKey string // PEM file for RS256/ES256
	JWKSFile     string
	JWTIssuer    string
	JWTAudience  string
	TLSCert      string
	TLSKey       string
	TLSClientCA  string
	CORSOrigins  []string
	LogLevel     string
	LogFormat    string
	DrainGrace   time.Duration
	DrainTimeout time.Duration
	OTLPEndpoint string
	OTLPProtocol string
	GPUMemLimit  int64
	Limits       limits.Limits
	ConfigFile   string
	PprofAddr    string

	// Rings (package ring).
	DataDir           string
	RingIdleTimeout   time.Duration
	MaxRings          int
	MaxRingsPerTenant int

	// Cluster mode (package cluster): rings on NATS JetStream; "" = single node.
	ClusterNATSURL    string
	ClusterPartitions int
	ClusterReplicas   int
	ClusterMember     string
}

// Production reports whether the production preset is in force.
func (c *Config) Production() bool { return c.Env == "production" }

// Load parses args (without the program and subcommand names) and the
// environment into a Config.
func Load(args []string, getenv func(string) string) (*Config, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	flagVals := map[string]*string{}
	var configFile, env string
	fs.StringVar(&configFile, "config", "", "YAML config file (flat keys as in the configuration table)")
	fs.StringVar(&env, "env", "", "preset: development or production (GOKERNELS_ENV)")
	for _, s := range settings {
		if s.key == "env" {
			continue
		}
		v := new(string)
		flagVals[s.key] = v
		fs.StringVar(v, s.flag(), "", s.help)
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })

	fileVals := map[string]string{}
	if configFile == "" {
		configFile = getenv("GOKERNELS_CONFIG")
	}
	if configFile != "" {
		b, err := os.ReadFile(configFile)
		if err != nil {
			return nil, fmt.Errorf("config file: %w", err)
		}
		raw := map[string]any{}
		if err := yaml.Unmarshal(b, &raw); err != nil {
			return nil, fmt.Errorf("config file %s: %w", configFile, err)
		}
		for k, v := range raw {
			if byKey(k) == nil {
				return nil, fmt.Errorf("config file %s: unknown setting %q", configFile, k)
			}
			if list, ok := v.([]any); ok {
				parts := make([]string, len(list))
				for i, p := range list {
					parts[i] = fmt.Sprint(p)
				}
				fileVals[k] = strings.Join(parts, ",")
			} else {
				fileVals[k] = fmt.Sprint(v)
			}
		}
	}

	// The preset is chosen first: flag, then environment, then file.
	switch {
	case given["env"]:
	case getenv("GOKERNELS_ENV") != "":
		env = getenv("GOKERNELS_ENV")
	case fileVals["env"] != "":
		env = fileVals["env"]
	default:
		env = "development"
	}
	env = strings.ToLower(strings.TrimSpace(env))
	if env != "development" && env != "production" {
		return nil, fmt.Errorf("GOKERNELS_ENV: %q is not development or production", env)
	}

	c := &Config{Env: env, ConfigFile: configFile}
	for _, s := range settings {
		if s.key == "env" {
			continue
		}
		val := s.def
		if env == "production" && s.prod != "" {
			val = s.prod
		}
		if v, ok := fileVals[s.key]; ok {
			val = v
		}
		if v := getenv(s.env()); v != "" {
			val = v
		}
		if given[s.flag()] {
			val = *flagVals[s.key]
		}
		if err := s.set(c, strings.TrimSpace(val)); err != nil {
			return nil, fmt.Errorf("%s (--%s): %w", s.env(), s.flag(), err)
		}
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) validate() error {
	if c.DefaultTimeout > c.MaxTimeout {
		return fmt.Errorf("GOKERNELS_DEFAULT_TIMEOUT (%s) exceeds GOKERNELS_MAX_TIMEOUT (%s)", c.DefaultTimeout, c.MaxTimeout)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("GOKERNELS_TLS_CERT and GOKERNELS_TLS_KEY must be set together")
	}
	if c.TLSClientCA != "" && c.TLSCert == "" {
		return fmt.Errorf("GOKERNELS_TLS_CLIENT_CA needs GOKERNELS_TLS_CERT and GOKERNELS_TLS_KEY")
	}
	if c.AuthEnabled && c.APIKeysFile == "" && c.JWTSecret == "" && c.JWTPublicKey == "" && c.JWKSFile == "" {
		return fmt.Errorf("GOKERNELS_AUTH is on but no credentials are configured: set GOKERNELS_API_KEYS_FILE or a JWT key (GOKERNELS_JWT_SECRET, GOKERNELS_JWT_PUBLIC_KEY, GOKERNELS_JWKS_FILE)")
	}
	for _, p := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				return fmt.Errorf("GOKERNELS_TRUSTED_PROXIES: %q is not an IP address or CIDR", p)
			}
		}
	}
	if c.HTTPPrefix != "" && (!strings.HasPrefix(c.HTTPPrefix, "/") || strings.HasSuffix(c.HTTPPrefix, "/")) {
		return fmt.Errorf("GOKERNELS_HTTP_PREFIX: %q must start with / and not end with /", c.HTTPPrefix)
	}
	return nil
}

// Print writes the effective configuration, one setting a line, with
// secrets redacted.
func (c *Config) Print() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-36s %s\n", "GOKERNELS_ENV", c.Env)
	keys := make([]string, 0, len(settings))
	for _, s := range settings {
		if s.key != "env" {
			keys = append(keys, s.key)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		s := byKey(k)
		v := s.get(c)
		if s.secret && v != "" {
			v = "[redacted]"
		}
		fmt.Fprintf(&b, "%-36s %s\n", s.env(), v)
	}
	return b.String()
}
