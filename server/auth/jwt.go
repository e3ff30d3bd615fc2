package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/gokernels/gokernels/server/config"
)

// Accepted JWT algorithms: one per kind of key.
const (
	algHS256 = "HS256"
	algRS256 = "RS256"
	algES256 = "ES256"
)

// minSecretBytes is RFC 7518 §3.2's floor for an HS256 key: at least the
// hash size.
const minSecretBytes = 32

// minRSABits refuses RSA keys too weak to trust.
const minRSABits = 2048

// clockSkew is the leeway on exp and nbf.
const clockSkew = 30 * time.Second

// jwtVerifier checks bearer JWTs against the configured keys.
type jwtVerifier struct {
	secret  []byte
	pemKeys []crypto.PublicKey          // GOKERNELS_JWT_PUBLIC_KEY: *rsa.PublicKey or *ecdsa.PublicKey
	jwks    map[string]crypto.PublicKey // GOKERNELS_JWKS_FILE keys with a kid
	anon    []crypto.PublicKey          // GOKERNELS_JWKS_FILE keys without a kid
	parser  *jwt.Parser
}

// claims are the token claims gokernels reads.
type claims struct {
	jwt.RegisteredClaims
	Role   string     `json:"role,omitempty"`
	Roles  stringList `json:"roles,omitempty"`
	Tenant string     `json:"tenant,omitempty"`
}

// stringList is a claim that may be a string or an array of strings.
type stringList []string

func (s *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("roles is not a string or an array of strings")
	}
	*s = many
	return nil
}

// newJWTVerifier builds the verifier from cfg, or returns nil when no JWT
// key is configured.
func newJWTVerifier(cfg *config.Config) (*jwtVerifier, error) {
	v := &jwtVerifier{jwks: map[string]crypto.PublicKey{}}
	if cfg.JWTSecret != "" {
		if len(cfg.JWTSecret) < minSecretBytes {
			return nil, fmt.Errorf("GOKERNELS_JWT_SECRET: %d bytes is too short for HS256; use at least %d (e.g. openssl rand -base64 48)", len(cfg.JWTSecret), minSecretBytes)
		}
		v.secret = []byte(cfg.JWTSecret)
	}
	if cfg.JWTPublicKey != "" {
		b, err := os.ReadFile(cfg.JWTPublicKey)
		if err != nil {
			return nil, fmt.Errorf("GOKERNELS_JWT_PUBLIC_KEY: %w", err)
		}
		keys, err := parsePEMKeys(b)
		if err != nil {
			return nil, fmt.Errorf("GOKERNELS_JWT_PUBLIC_KEY: %s: %w", cfg.JWTPublicKey, err)
		}
		v.pemKeys = keys
	}
	if cfg.JWKSFile != "" {
		b, err := os.ReadFile(cfg.JWKSFile)
		if err != nil {
			return nil, fmt.Errorf("GOKERNELS_JWKS_FILE: %w", err)
		}
		byKid, anon, err := parseJWKS(b)
		if err != nil {
			return nil, fmt.Errorf("GOKERNELS_JWKS_FILE: %s: %w", cfg.JWKSFile, err)
		}
		v.jwks, v.anon = byKid, anon
	}
	var methods []string
	if v.secret != nil {
		methods = append(methods, algHS256)
	}
	if len(v.keysFor(algRS256, "")) > 0 {
		methods = append(methods, algRS256)
	}
	if len(v.keysFor(algES256, "")) > 0 {
		methods = append(methods, algES256)
	}
	if len(methods) == 0 {
		return nil, nil
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(methods),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(), // an iat in the future (beyond the skew) is refused
		jwt.WithLeeway(clockSkew),
	}
	if cfg.JWTIssuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.JWTIssuer))
	}
	var auds []string
	for _, a := range strings.Split(cfg.JWTAudience, ",") {
		if a = strings.TrimSpace(a); a != "" {
			auds = append(auds, a)
		}
	}
	if len(auds) > 0 {
		opts = append(opts, jwt.WithAudience(auds...))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// keysFor lists the public keys that may verify a token signed with alg
// (RS256 or ES256) and carrying kid: the JWKS key with that kid when there
// is one; otherwise the PEM keys and the JWKS keys without a kid (a kid that
// matches nothing still allows the PEM keys, which need no kid). kid ""
// lists every key of the type.
func (v *jwtVerifier) keysFor(alg, kid string) []crypto.PublicKey {
	var out []crypto.PublicKey
	add := func(k crypto.PublicKey) {
		switch k.(type) {
		case *rsa.PublicKey:
			if alg == algRS256 {
				out = append(out, k)
			}
		case *ecdsa.PublicKey:
			if alg == algES256 {
				out = append(out, k)
			}
		}
	}
	if kid != "" {
		if k, ok := v.jwks[kid]; ok {
			add(k)
			return out
		}
		for _, k := range v.pemKeys {
			add(k)
		}
		return out
	}
	for _, k := range v.pemKeys {
		add(k)
	}
	for _, k := range v.anon {
		add(k)
	}
	for _, k := range v.jwks {
		add(k)
	}
	return out
}

func (v *jwtVerifier) keyfunc(t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	if alg == algHS256 {
		if v.secret == nil {
			return nil, errors.New("HS256 is not accepted")
		}
		return v.secret, nil
	}
	kid, _ := t.Header["kid"].(string)
	keys := v.keysFor(alg, kid)
	if len(keys) == 0 {
		return nil, errors.New("no key for this token")
	}
	set := jwt.VerificationKeySet{}
	for _, k := range keys {
		set.Keys = append(set.Keys, k)
	}
	return set, nil
}

// verify checks a token and returns its identity. Error messages are fixed
// phrases: they never contain the token or a claim from it.
func (v *jwtVerifier) verify(token string) (Identity, error) {
	var c claims
	t, err := v.parser.ParseWithClaims(token, &c, v.keyfunc)
	if err != nil {
		return Identity{}, errors.New("invalid token: " + describeJWTError(err))
	}
	// RFC 7515 §4.1.11: a recipient that does not understand every
	// extension a "crit" header lists must reject the token; gokernels
	// understands none.
	if _, ok := t.Header["crit"]; ok {
		return Identity{}, errors.New("invalid token: critical header extensions (crit) are not supported")
	}
	if err := numericDates(token); err != nil {
		return Identity{}, errors.New("invalid token: " + err.Error())
	}
	if c.Subject == "" {
		return Identity{}, errors.New("invalid token: no sub claim")
	}
	role, ok := ParseRole(c.Role)
	if c.Role == "" {
		for _, r := range c.Roles {
			if role, ok = ParseRole(r); ok {
				break
			}
		}
	}
	if !ok {
		// Authenticated, but with no role gokernels knows: the caller may
		// do nothing, which PERMISSION_DENIED then says.
		role = RoleNone
	}
	return Identity{Principal: c.Subject, Role: role, Tenant: c.Tenant}, nil
}

// numericDates checks that exp, nbf and iat, when present, are JSON
// numbers (RFC 7519 NumericDate). The JWT library also reads a string
// such as "9999999999", which no issuer writes and a forger might.
func numericDates(token string) error {
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return errors.New("token is malformed")
	}
	var c map[string]json.RawMessage
	if err := json.Unmarshal(raw, &c); err != nil {
		return errors.New("token is malformed")
	}
	for _, name := range []string{"exp", "nbf", "iat"} {
		v, ok := c[name]
		if !ok {
			continue
		}
		d := json.NewDecoder(strings.NewReader(string(v)))
		d.UseNumber()
		var x any
		if d.Decode(&x) != nil {
			return errors.New("token is malformed")
		}
		if _, ok := x.(json.Number); !ok {
			return fmt.Errorf("the %s claim must be a number (seconds since the epoch)", name)
		}
	}
	return nil
}

func describeJWTError(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token is not valid yet"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "issuer not accepted"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "audience not accepted"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		for _, claim := range []string{"exp", "iss", "aud"} {
			if strings.Contains(err.Error(), claim+" claim is required") {
				return "the " + claim + " claim is required"
			}
		}
		return "a required claim is missing"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "token is malformed"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return "signature not verified (unknown key, key id or algorithm)"
	}
	return "token rejected"
}

// parsePEMKeys reads every public key in a PEM file: PUBLIC KEY (PKIX),
// RSA PUBLIC KEY (PKCS #1) or CERTIFICATE blocks. RSA keys need 2048 bits or
// more; EC keys must be P-256 (ES256).
func parsePEMKeys(b []byte) ([]crypto.PublicKey, error) {
	var keys []crypto.PublicKey
	for n := 1; ; n++ {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		var key any
		var err error
		switch block.Type {
		case "PUBLIC KEY":
			key, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			key, err = x509.ParsePKCS1PublicKey(block.Bytes)
		case "CERTIFICATE":
			var cert *x509.Certificate
			if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
				key = cert.PublicKey
			}
		default:
			if strings.Contains(block.Type, "PRIVATE KEY") {
				return nil, fmt.Errorf("PEM block %d is a private key: give the public key only (openssl pkey -pubout)", n)
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("PEM block %d (%s): %w", n, block.Type, err)
		}
		if err := checkKey(key); err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", n, err)
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, errors.New("no PEM public key found")
	}
	return keys, nil
}

func checkKey(key any) error {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return fmt.Errorf("RSA key of %d bits: at least %d needed", k.N.BitLen(), minRSABits)
		}
		if k.E < 3 || k.E%2 == 0 {
			return fmt.Errorf("e = %d is not a valid RSA exponent", k.E)
		}
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return fmt.Errorf("EC key on %s: ES256 needs P-256", k.Curve.Params().Name)
		}
	default:
		return fmt.Errorf("unsupported key type %T: want RSA (RS256) or EC P-256 (ES256)", key)
	}
	return nil
}

// jwk is the part of a JSON Web Key (RFC 7517/7518) that decides whether
// gokernels uses it; the key material itself is decoded and checked by
// go-jose (base64url fields, RSA modulus and exponent, EC point on the curve).
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Crv string `json:"crv"`
}

// parseJWKS reads a JWK Set ({"keys": [...]}). RSA keys and EC P-256 keys
// are loaded; keys for encryption ("use": "enc"), for other algorithms
// ("alg" other than RS256/ES256), or of other types and curves are skipped.
// A malformed key, or two keys with one kid, is an error, as is a set with
// no usable key.
func parseJWKS(b []byte) (byKid map[string]crypto.PublicKey, anon []crypto.PublicKey, err error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, nil, fmt.Errorf("not a JWK Set: %w", err)
	}
	byKid = map[string]crypto.PublicKey{}
	for i, raw := range set.Keys {
		var k jwk
		if err := json.Unmarshal(raw, &k); err != nil {
			return nil, nil, fmt.Errorf("keys[%d]: %w", i, err)
		}
		name := fmt.Sprintf("keys[%d]", i)
		if k.Kid != "" {
			name += fmt.Sprintf(" (kid %q)", k.Kid)
		}
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if !(k.Kty == "RSA" && (k.Alg == "" || k.Alg == algRS256)) &&
			!(k.Kty == "EC" && k.Crv == "P-256" && (k.Alg == "" || k.Alg == algES256)) {
			continue
		}
		var jk jose.JSONWebKey
		if err := jk.UnmarshalJSON(raw); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		key := jk.Key
		if !jk.Valid() {
			err = errors.New("not a valid public key")
		} else {
			err = checkKey(key)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		if k.Kid == "" {
			anon = append(anon, key)
			continue
		}
		if _, dup := byKid[k.Kid]; dup {
			return nil, nil, fmt.Errorf("%s: kid used twice", name)
		}
		byKid[k.Kid] = key
	}
	if len(byKid) == 0 && len(anon) == 0 {
		return nil, nil, errors.New("no usable signing key (RSA, or EC P-256)")
	}
	return byKid, anon, nil
}
