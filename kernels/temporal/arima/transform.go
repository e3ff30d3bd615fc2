package arima

import "math"

// The optimiser searches an unconstrained space; these maps (Monahan 1984,
// Jones 1980, as statsmodels' constrain_stationary_univariate) send any real
// vector to the coefficients of a stationary AR polynomial through partial
// autocorrelations r_k = x_k / sqrt(1 + x_k^2) in (-1, 1) and the
// Durbin-Levinson recursion. MA coefficients use the same map with the sign
// flipped, because 1 + theta_1 L + ... is invertible exactly when
// 1 - (-theta_1) L - ... is stationary.

// constrainAR maps unconstrained x to stationary AR coefficients.
func constrainAR(x []float64) []float64 {
	n := len(x)
	phi := make([]float64, n)
	prev := make([]float64, n)
	for k := 0; k < n; k++ {
		r := x[k] / math.Sqrt(1+x[k]*x[k])
		copy(prev, phi[:k])
		for i := 0; i < k; i++ {
			phi[i] = prev[i] - r*prev[k-1-i]
		}
		phi[k] = r
	}
	return phi
}

// unconstrainAR inverts constrainAR. ok is false when phi is not stationary
// (a partial autocorrelation reaches +-1).
func unconstrainAR(phi []float64) (x []float64, ok bool) {
	n := len(phi)
	cur := append([]float64(nil), phi...)
	x = make([]float64, n)
	prev := make([]float64, n)
	for k := n - 1; k >= 0; k-- {
		r := cur[k]
		if !(math.Abs(r) < 1) {
			return nil, false
		}
		x[k] = r / math.Sqrt(1-r*r)
		den := 1 - r*r
		for i := 0; i < k; i++ {
			prev[i] = (cur[i] + r*cur[k-1-i]) / den
		}
		copy(cur, prev[:k])
	}
	return x, true
}

// constrainMA maps unconstrained x to invertible MA coefficients.
func constrainMA(x []float64) []float64 {
	theta := constrainAR(x)
	for i := range theta {
		theta[i] = -theta[i]
	}
	return theta
}

// unconstrainMA inverts constrainMA; ok is false when theta is not invertible.
func unconstrainMA(theta []float64) ([]float64, bool) {
	neg := make([]float64, len(theta))
	for i, t := range theta {
		neg[i] = -t
	}
	return unconstrainAR(neg)
}
