// Package philox provides the random numbers of the Monte Carlo kernels:
// Philox4x64-10 counter-based streams and standard normal draws from them.
//
// Philox (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as
// 1, 2, 3", SC 2011) is a keyed bijection on a 256-bit counter: the random
// words for a counter depend only on (key, counter), never on what was drawn
// before. Each simulated path gets its own stream, addressed by the request
// seed and the path index, so results do not depend on the number of
// goroutines or on which device computes a path — a CUDA kernel reproduces a
// path with the same few lines (one thread per path).
//
// The stream layout is that of numpy.random.Philox (which is Philox4x64-10),
// and Normal is numpy's ziggurat, so path p's draws equal
// numpy.random.Generator(numpy.random.Philox(key=seed, counter=p << 128)).standard_normal(n)
// up to the last bits of the ziggurat tables (about 1e-14 relative). The
// test fixtures use exactly that as an independent oracle.
package philox

import "math/bits"

// Round constants of Philox4x64 (Random123 philox.h).
const (
	mul0  = 0xD2E7470EE14C6C93
	mul1  = 0xCA5A826395121157
	weyl0 = 0x9E3779B97F4A7C15 // golden ratio
	weyl1 = 0xBB67AE8584CAA73B // sqrt(3) - 1
)

// Key is the 128-bit Philox key; the kernels use {seed, 0}.
type Key [2]uint64

// Counter is the 256-bit Philox counter, least significant word first.
type Counter [4]uint64

// Block returns the four 64-bit outputs of Philox4x64-10 for (ctr, key).
func Block(ctr Counter, key Key) [4]uint64 {
	var out [4]uint64
	block(&out, ctr[0], ctr[1], ctr[2], ctr[3], key[0], key[1])
	return out
}

// block is Block with the words in registers (Go passes arrays on the
// stack, and the copies cost as much as the rounds in the Monte Carlo loop).
func block(out *[4]uint64, c0, c1, c2, c3, k0, k1 uint64) {
	for range 10 {
		hi0, lo0 := bits.Mul64(mul0, c0)
		hi1, lo1 := bits.Mul64(mul1, c2)
		c0, c1, c2, c3 = hi1^c1^k0, lo1, hi0^c3^k1, lo0
		// The key schedule; bumping after the last round too is harmless
		// and keeps the loop free of a branch.
		k0 += weyl0
		k1 += weyl1
	}
	out[0], out[1], out[2], out[3] = c0, c1, c2, c3
}

// Stream is a sequence of 64-bit words: the outputs of the blocks at
// counters start+1, start+2, … in order, four words per block (the order of
// numpy.random.Philox(key, counter=start).random_raw()).
type Stream struct {
	key Key
	ctr Counter
	buf [4]uint64
	pos int
}

// PathStream returns the stream of path p under seed: key {seed, 0},
// counter p·2¹²⁸ (word 2), so distinct paths never share a block.
func PathStream(seed, path uint64) Stream {
	return Stream{key: Key{seed, 0}, ctr: Counter{0, 0, path, 0}, pos: 4}
}

// Uint64 returns the next word.
func (s *Stream) Uint64() uint64 {
	if s.pos == 4 {
		s.refill()
	}
	v := s.buf[s.pos]
	s.pos++
	return v
}

// refill computes the next block into the buffer.
func (s *Stream) refill() {
	s.ctr[0]++
	if s.ctr[0] == 0 { // carry, as numpy does; unreachable at kernel sizes
		s.ctr[1]++
	}
	block(&s.buf, s.ctr[0], s.ctr[1], s.ctr[2], s.ctr[3], s.key[0], s.key[1])
	s.pos = 0
}

// Float64 returns a uniform double in [0, 1) from the top 53 bits of a word.
func (s *Stream) Float64() float64 { return float64(s.Uint64()>>11) * 0x1p-53 }
