package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gokernels/gokernels/server/config"
)

const testSecret = "0123456789abcdef0123456789abcdef-hs256-test"

// testKeys are generated once per test binary (RSA generation is slow).
var testKeys = sync.OnceValue(func() (k struct {
	rsa1, rsa2 *rsa.PrivateKey
	ec1, ec2   *ecdsa.PrivateKey
}) {
	var err error
	if k.rsa1, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	if k.rsa2, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	if k.ec1, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		panic(err)
	}
	if k.ec2, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		panic(err)
	}
	return k
})

func pemPublic(t *testing.T, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func rsaJWK(kid string, k *rsa.PublicKey) map[string]any {
	return map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": b64u(k.N.Bytes()), "e": b64u(big.NewInt(int64(k.E)).Bytes())}
}

func ecJWK(kid string, k *ecdsa.PublicKey) map[string]any {
	raw, _ := k.Bytes() // 0x04 || x || y
	return map[string]any{"kty": "EC", "kid": kid, "crv": "P-256", "x": b64u(raw[1:33]), "y": b64u(raw[33:])}
}

func jwksFile(t *testing.T, keys ...map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return writeFile(t, "jwks.json", string(b))
}

// sign makes a token; kid "" leaves the header without one.
func sign(t *testing.T, method jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// critToken is a validly signed HS256 token whose header lists a critical
// extension (RFC 7515 §4.1.11).
func critToken(t *testing.T, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	tok.Header["crit"] = []string{"exp-ext"}
	tok.Header["exp-ext"] = true
	s, err := tok.SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func claimsFor(role string) jwt.MapClaims {
	return jwt.MapClaims{"sub": "alice", "role": role, "tenant": "acme", "exp": time.Now().Add(time.Hour).Unix(),
		"iss": "https://issuer.test", "aud": "gokernels"}
}

func with(c jwt.MapClaims, kv ...any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

func verifier(t *testing.T, cfg *config.Config) *jwtVerifier {
	t.Helper()
	v, err := newJWTVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if v == nil {
		t.Fatal("no verifier")
	}
	return v
}

func TestJWTAlgorithms(t *testing.T) {
	k := testKeys()
	cases := []struct {
		name  string
		cfg   *config.Config
		token string
	}{
		{"HS256", &config.Config{JWTSecret: testSecret}, sign(t, jwt.SigningMethodHS256, []byte(testSecret), "", claimsFor("executor"))},
		{"RS256 PEM", &config.Config{JWTPublicKey: writeFile(t, "rsa.pem", pemPublic(t, &k.rsa1.PublicKey))},
			sign(t, jwt.SigningMethodRS256, k.rsa1, "", claimsFor("executor"))},
		{"RS256 PKCS1 PEM", &config.Config{JWTPublicKey: writeFile(t, "rsa1.pem", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.rsa1.PublicKey)})))},
			sign(t, jwt.SigningMethodRS256, k.rsa1, "any-kid", claimsFor("executor"))},
		{"ES256 PEM", &config.Config{JWTPublicKey: writeFile(t, "ec.pem", pemPublic(t, &k.ec1.PublicKey))},
			sign(t, jwt.SigningMethodES256, k.ec1, "", claimsFor("executor"))},
		{"two PEM keys", &config.Config{JWTPublicKey: writeFile(t, "both.pem", pemPublic(t, &k.rsa2.PublicKey)+pemPublic(t, &k.ec1.PublicKey))},
			sign(t, jwt.SigningMethodES256, k.ec1, "", claimsFor("executor"))},
		{"roles array", &config.Config{JWTSecret: testSecret},
			sign(t, jwt.SigningMethodHS256, []byte(testSecret), "", with(claimsFor(""), "role", nil, "roles", []string{"offline_access", "executor", "admin"}))},
		{"roles string", &config.Config{JWTSecret: testSecret},
			sign(t, jwt.SigningMethodHS256, []byte(testSecret), "", with(claimsFor(""), "role", nil, "roles", "executor"))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.JWTIssuer, c.cfg.JWTAudience = "https://issuer.test", "other, gokernels"
			id, err := verifier(t, c.cfg).verify(c.token)
			if err != nil {
				t.Fatal(err)
			}
			if id != (Identity{Principal: "alice", Role: Executor, Tenant: "acme"}) {
				t.Fatalf("identity %+v", id)
			}
		})
	}
}

func TestJWKSByKid(t *testing.T) {
	k := testKeys()
	path := jwksFile(t,
		rsaJWK("r1", &k.rsa1.PublicKey),
		rsaJWK("r2", &k.rsa2.PublicKey),
		ecJWK("e1", &k.ec1.PublicKey),
		map[string]any{"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"}, // skipped: not for signatures
		map[string]any{"kty": "oct", "kid": "sym", "k": "c2VjcmV0"},                        // skipped: symmetric
		map[string]any{"kty": "EC", "kid": "p384", "crv": "P-384", "x": "AA", "y": "AA"},   // skipped: other curve
	)
	v := verifier(t, &config.Config{JWKSFile: path})
	ok := func(name, tok string) {
		t.Helper()
		if id, err := v.verify(tok); err != nil || id.Role != Admin {
			t.Errorf("%s: %+v %v", name, id, err)
		}
	}
	bad := func(name, tok string) {
		t.Helper()
		if _, err := v.verify(tok); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), tok) {
			t.Errorf("%s: error repeats the token", name)
		}
	}
	c := claimsFor("admin")
	delete(c, "iss")
	ok("r1", sign(t, jwt.SigningMethodRS256, k.rsa1, "r1", c))
	ok("r2", sign(t, jwt.SigningMethodRS256, k.rsa2, "r2", c))
	ok("e1", sign(t, jwt.SigningMethodES256, k.ec1, "e1", c))
	ok("no kid tries every key", sign(t, jwt.SigningMethodRS256, k.rsa2, "", c))
	bad("r1's kid, r2's signature", sign(t, jwt.SigningMethodRS256, k.rsa2, "r1", c))
	bad("unknown kid", sign(t, jwt.SigningMethodRS256, k.rsa1, "r9", c))
	bad("RSA kid with ES256", sign(t, jwt.SigningMethodES256, k.ec1, "r1", c))
	bad("key not in the set", sign(t, jwt.SigningMethodES256, k.ec2, "e1", c))
	bad("HS256 not configured", sign(t, jwt.SigningMethodHS256, []byte(testSecret), "", c))
}

func TestJWTRejections(t *testing.T) {
	k := testKeys()
	cfg := &config.Config{JWTSecret: testSecret, JWTPublicKey: writeFile(t, "rsa.pem", pemPublic(t, &k.rsa1.PublicKey)),
		JWTIssuer: "https://issuer.test", JWTAudience: "gokernels"}
	v := verifier(t, cfg)
	hs := func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodHS256, []byte(testSecret), "", c) }
	good := claimsFor("admin")
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, good).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	// Algorithm confusion: an HS256 token whose "secret" is the RSA public key.
	confused := sign(t, jwt.SigningMethodHS256, []byte(pemPublic(t, &k.rsa1.PublicKey)), "", good)
	valid := hs(good)
	tampered := valid[:strings.LastIndexByte(valid, '.')+1] + "AAAA" + valid[strings.LastIndexByte(valid, '.')+5:]
	cases := []struct {
		name, token, want string
	}{
		{"wrong issuer", hs(with(good, "iss", "https://evil.test")), "issuer not accepted"},
		{"no issuer", hs(with(good, "iss", nil)), "the iss claim is required"},
		{"no audience", hs(with(good, "aud", nil)), "the aud claim is required"},
		{"wrong audience", hs(with(good, "aud", "someone-else")), "audience not accepted"},
		{"expired", hs(with(good, "exp", time.Now().Add(-time.Hour).Unix())), "token has expired"},
		{"no exp", hs(with(good, "exp", nil)), "the exp claim is required"},
		{"not yet valid", hs(with(good, "nbf", time.Now().Add(time.Hour).Unix())), "not valid yet"},
		{"alg none", none, "signature not verified"},
		{"alg confusion", confused, "signature not verified"},
		{"RS384", sign(t, jwt.SigningMethodRS384, k.rsa1, "", good), "signature not verified"},
		{"wrong secret", sign(t, jwt.SigningMethodHS256, []byte(strings.Repeat("x", 40)), "", good), "signature not verified"},
		{"tampered signature", tampered, "signature not verified"},
		{"no sub", hs(with(good, "sub", nil)), "no sub claim"},
		{"garbage", "a.b.c", "malformed"},
		{"bad roles type", hs(with(good, "role", nil, "roles", 7)), "malformed"},
		{"iat in the future", hs(with(good, "iat", time.Now().Add(time.Hour).Unix())), "not valid yet"},
		{"string exp", hs(with(good, "exp", fmt.Sprint(time.Now().Add(time.Hour).Unix()))), "exp claim must be a number"},
		{"string iat", hs(with(good, "iat", fmt.Sprint(time.Now().Unix()))), "iat claim must be a number"},
		{"crit header", critToken(t, good), "crit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := v.verify(c.token)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q lacks %q", err, c.want)
			}
			if strings.Contains(err.Error(), c.token) || strings.Contains(err.Error(), "evil") {
				t.Errorf("error %q repeats the token", err)
			}
		})
	}
	// A good token still passes, and a slightly expired one is within the skew;
	// so is an iat a few seconds ahead of this clock.
	if _, err := v.verify(valid); err != nil {
		t.Fatal(err)
	}
	if _, err := v.verify(hs(with(good, "iat", time.Now().Add(5*time.Second).Unix()))); err != nil {
		t.Fatalf("iat 5 s ahead is within the clock skew: %v", err)
	}
	if _, err := v.verify(hs(with(good, "exp", time.Now().Add(-5*time.Second).Unix()))); err != nil {
		t.Fatalf("5 s past exp is within the clock skew: %v", err)
	}
	// Unknown or missing role: authenticated, but with no role.
	for _, c := range []jwt.MapClaims{with(good, "role", "boss"), with(good, "role", nil)} {
		id, err := v.verify(hs(c))
		if err != nil || id.Role != RoleNone {
			t.Errorf("role %v: %+v %v", c["role"], id, err)
		}
	}
}

func TestJWTConfigErrors(t *testing.T) {
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ecPriv, _ := x509.MarshalECPrivateKey(testKeys().ec1)
	k := testKeys()
	cases := []struct {
		name string
		cfg  config.Config
		want string
	}{
		{"short secret", config.Config{JWTSecret: "short"}, "GOKERNELS_JWT_SECRET: 5 bytes is too short"},
		{"missing PEM", config.Config{JWTPublicKey: "/nonexistent/key.pem"}, "GOKERNELS_JWT_PUBLIC_KEY: "},
		{"no PEM block", config.Config{JWTPublicKey: writeFile(t, "x.pem", "hello")}, "no PEM public key"},
		{"private key", config.Config{JWTPublicKey: writeFile(t, "p.pem", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecPriv})))}, "private key"},
		{"P-384", config.Config{JWTPublicKey: writeFile(t, "p384.pem", pemPublic(t, &ec384.PublicKey))}, "ES256 needs P-256"},
		{"RSA 1024", config.Config{JWTPublicKey: writeFile(t, "r.pem", pemPublic(t, &rsa1024.PublicKey))}, "RSA key of 1024 bits"},
		{"JWKS not JSON", config.Config{JWKSFile: writeFile(t, "j", "{")}, "GOKERNELS_JWKS_FILE: "},
		{"JWKS empty", config.Config{JWKSFile: jwksFile(t)}, "no usable signing key"},
		{"JWKS duplicate kid", config.Config{JWKSFile: jwksFile(t, rsaJWK("a", &k.rsa1.PublicKey), ecJWK("a", &k.ec1.PublicKey))}, `kid "a"): kid used twice`},
		{"JWKS bad point", config.Config{JWKSFile: jwksFile(t, map[string]any{"kty": "EC", "kid": "e", "crv": "P-256", "x": b64u(make([]byte, 32)), "y": b64u(make([]byte, 32))})}, `keys[0] (kid "e"): go-jose/go-jose: invalid EC key, X/Y are not on declared curve`},
		{"JWKS missing n", config.Config{JWKSFile: jwksFile(t, map[string]any{"kty": "RSA", "kid": "r", "e": "AQAB"})}, `keys[0] (kid "r"): go-jose/go-jose: invalid RSA key, missing n/e values`},
		{"JWKS even e", config.Config{JWKSFile: jwksFile(t, map[string]any{"kty": "RSA", "kid": "r", "n": b64u(k.rsa1.N.Bytes()), "e": "Ag"})}, "not a valid RSA exponent"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(&c.cfg, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
	if _, err := New(&config.Config{}, nil); err == nil || !strings.Contains(err.Error(), "no credentials are configured") {
		t.Errorf("nothing configured: %v", err)
	}
}
