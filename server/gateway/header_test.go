package gateway

import (
	"strings"
	"testing"
)

// TestIncomingHeader: the matcher forwards exactly the forwarded headers, in
// any spelling, as their lower-case metadata keys, and reading a canonical
// header name allocates nothing.
func TestIncomingHeader(t *testing.T) {
	for k := range forwarded {
		for _, name := range []string{k, strings.ToUpper(k), canonical(k)} {
			got, ok := incomingHeader(name)
			if !ok || got != k {
				t.Errorf("incomingHeader(%q) = %q, %v; want %q, true", name, got, ok, k)
			}
		}
	}
	for _, name := range []string{"Content-Type", "User-Agent", "Grpc-Timeout", "X-Forwarded-For", "X-Api-Keys", "content-type", "X_api_key"} {
		if got, ok := incomingHeader(name); ok {
			t.Errorf("incomingHeader(%q) = %q, true; want not forwarded", name, got)
		}
	}
	for _, name := range []string{"User-Agent", "X-Api-Key", "Traceparent"} {
		if n := testing.AllocsPerRun(100, func() { _, _ = incomingHeader(name) }); n != 0 {
			t.Errorf("incomingHeader(%q): %v allocations; want 0", name, n)
		}
	}
}

// canonical is "x-api-key" → "X-Api-Key", written out independently of
// textproto.
func canonical(k string) string {
	parts := strings.Split(k, "-")
	for i, p := range parts {
		parts[i] = strings.ToUpper(p[:1]) + p[1:]
	}
	return strings.Join(parts, "-")
}
