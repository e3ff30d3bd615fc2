package explain

// randomState reproduces numpy's legacy numpy.random.RandomState (the
// MT19937 generator with its integer seeding) for the two calls
// sklearn.inspection.permutation_importance makes: randint(2^31) and
// shuffle of an index array. Matching it makes the permutations, and so the
// importances, identical to scikit-learn's for the same seed.
type randomState struct {
	mt  [624]uint32
	pos int
}

// newRandomState is RandomState(seed) for 0 ≤ seed < 2^32 (init_genrand).
func newRandomState(seed uint32) *randomState {
	r := &randomState{pos: 624}
	r.mt[0] = seed
	for i := 1; i < 624; i++ {
		prev := r.mt[i-1]
		r.mt[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	return r
}

// uint32 is genrand_int32.
func (r *randomState) uint32() uint32 {
	const (
		upper = 0x80000000
		lower = 0x7fffffff
		matA  = 0x9908b0df
	)
	if r.pos >= 624 {
		for i := range 624 {
			y := r.mt[i]&upper | r.mt[(i+1)%624]&lower
			v := r.mt[(i+397)%624] ^ y>>1
			if y&1 != 0 {
				v ^= matA
			}
			r.mt[i] = v
		}
		r.pos = 0
	}
	y := r.mt[r.pos]
	r.pos++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	y ^= y >> 18
	return y
}

// interval is numpy's random_interval(max): a uniform integer in [0, max]
// by masked rejection sampling (max < 2^32 here).
func (r *randomState) interval(max uint32) uint32 {
	if max == 0 {
		return 0
	}
	mask := max
	mask |= mask >> 1
	mask |= mask >> 2
	mask |= mask >> 4
	mask |= mask >> 8
	mask |= mask >> 16
	for {
		if v := r.uint32() & mask; v <= max {
			return v
		}
	}
}

// randint31 is RandomState.randint(2**31) (legacy masked generation of an
// int64 below 2^31: one 31-bit masked draw, never rejected).
func (r *randomState) randint31() uint32 { return r.uint32() & 0x7fffffff }

// shuffle is RandomState.shuffle of a 1-d array (Fisher–Yates from the end).
func (r *randomState) shuffle(a []int) {
	for i := len(a) - 1; i > 0; i-- {
		j := int(r.interval(uint32(i)))
		a[i], a[j] = a[j], a[i]
	}
}
