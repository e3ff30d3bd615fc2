// Package gnn holds what the graph neural network forward passes share: the
// activation functions and a dense matrix product. The passes themselves are in gcn (graph
// convolution) and gat (graph attention).
package gnn

import (
	"context"
	"fmt"
	"math"

	"github.com/gokernels/gokernels/kernels/kerr"
	"github.com/gokernels/gokernels/kernels/par"
)

// Activation returns the elementwise function called name: "" or "none"
// (identity), "relu", "tanh", "sigmoid" (1/(1+e^-x)) or "elu" (x for x > 0,
// e^x - 1 otherwise). ok is false for any other name.
func Activation(name string) (f func(float64) float64, ok bool) {
	switch name {
	case "", "none":
		return func(x float64) float64 { return x }, true
	case "relu":
		return func(x float64) float64 { return max(x, 0) }, true
	case "tanh":
		return math.Tanh, true
	case "sigmoid":
		return func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, true
	case "elu":
		return func(x float64) float64 {
			if x > 0 {
				return x
			}
			return math.Expm1(x)
		}, true
	}
	return nil, false
}

// MatMul returns a (n x p) times b (p x q), all row-major, computing the
// rows in parallel (each row's sums run in a fixed order).
func MatMul(ctx context.Context, a []float64, n, p int, b []float64, q int) ([]float64, error) {
	res := make([]float64, n*q)
	err := par.Dynamic(ctx, n, 256, par.Workers(n), func(_, lo, hi int) error {
		for i := lo; i < hi; i++ {
			row := res[i*q : (i+1)*q]
			for k, aik := range a[i*p : (i+1)*p] {
				if aik == 0 {
					continue
				}
				bk := b[k*q : (k+1)*q]
				for j := range row {
					row[j] += aik * bk[j]
				}
			}
		}
		return nil
	})
	return res, err
}

// CheckFinite rejects a NaN or infinite value of the list named field with
// a field error on "field[i]".
func CheckFinite(field string, v []float64) error {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return kerr.Invalid(fmt.Sprintf("%s[%d]", field, i), "must be finite")
		}
	}
	return nil
}
