package main

import "crypto/tls"

// defaultTLS trusts the system roots.
func defaultTLS() *tls.Config { return &tls.Config{MinVersion: tls.VersionTLS12} }
