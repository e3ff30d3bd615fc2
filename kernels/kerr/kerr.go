// Package kerr carries the one error type kernels use to reject bad input.
//
// A kernel that finds a problem with its input returns a *FieldError naming the
// input field (in the request's JSON/proto field names, with indexes, e.g.
// "edges[3]" or "weights[7]"). The server turns it into INVALID_ARGUMENT / 400
// with a google.rpc.BadRequest field violation whose field is prefixed with
// "input.". Any other error from a kernel is treated as an internal failure.
package kerr

import (
	"errors"
	"fmt"
)

// FieldError is a client error in one input field.
type FieldError struct {
	Field string
	Desc  string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Desc }

// Invalid returns a *FieldError for field with a formatted description.
func Invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Desc: fmt.Sprintf(format, args...)}
}

// AsField reports whether err is (or wraps) a *FieldError.
func AsField(err error) (*FieldError, bool) {
	var fe *FieldError
	ok := errors.As(err, &fe)
	return fe, ok
}

// First returns the first *FieldError inside a joined error (errors.Join),
// so a client sees one clear field violation; other errors pass through.
func First(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if _, ok := AsField(e); ok {
				return e
			}
		}
	}
	return err
}
