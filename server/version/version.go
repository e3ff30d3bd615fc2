// Package version holds the build's version, set with -ldflags at build time.
package version

// Version is overwritten by the Makefile's -X flag.
var Version = "dev"
