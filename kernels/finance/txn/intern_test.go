package txn

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	financev1 "github.com/gokernels/gokernels/gen/gokernels/kernels/finance/v1"
	"github.com/gokernels/gokernels/kernels/kerr"
)

// TestInternerMatchesMap: ID, Lookup, Len and ByName agree with a map and a
// string sort on names that share long prefixes, differ only past byte 8,
// are empty, contain NUL bytes or invalid UTF-8, across several rehashes.
func TestInternerMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	pool := []string{"", "\x00", "A", "A\x00", "A\x00\x01", "\xff\xfe", "AAAAAAAA", "AAAAAAAA\x00", "AAAAAAAAB", "AAAAAAAAA"}
	for i := range 3000 {
		pool = append(pool, fmt.Sprintf("acct-%07d", rng.IntN(5000)), strings.Repeat("x", i%40)+fmt.Sprint(i%97))
	}
	var in Interner
	want := map[string]int32{}
	var names []string
	for _, s := range pool {
		id := in.ID(s)
		w, ok := want[s]
		if !ok {
			w = int32(len(names))
			want[s] = w
			names = append(names, s)
		}
		if id != w {
			t.Fatalf("ID(%q) = %d, want %d", s, id, w)
		}
	}
	if in.Len() != len(names) || !slices.Equal(in.Names, names) {
		t.Fatalf("Len %d Names differ from first-appearance order (want %d)", in.Len(), len(names))
	}
	for s, w := range want {
		if id, ok := in.Lookup(s); !ok || id != w {
			t.Fatalf("Lookup(%q) = %d %v, want %d", s, id, ok, w)
		}
	}
	if _, ok := in.Lookup("never-added"); ok {
		t.Fatal("Lookup of an unknown name succeeded")
	}
	var empty Interner
	if _, ok := empty.Lookup("x"); ok || empty.Len() != 0 {
		t.Fatal("zero Interner is not empty")
	}
	got := in.ByName()
	byName := make([]string, len(got))
	for i, id := range got {
		byName[i] = in.Names[id]
	}
	sorted := slices.Clone(names)
	slices.Sort(sorted)
	if !slices.Equal(byName, sorted) {
		t.Fatalf("ByName order differs from a bytewise sort: %q vs %q", byName[:10], sorted[:10])
	}
}

// TestCheckDuplicates: the hashed duplicate check names the same index as
// a map walk, on inputs with no, one early, one late and many duplicates.
func TestCheckDuplicates(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 40 {
		n := 1 + rng.IntN(3000)
		txs := make([]*financev1.Transaction, n)
		for i := range txs {
			txs[i] = &financev1.Transaction{Id: fmt.Sprintf("t%d", i), Ts: int64(rng.IntN(100))}
		}
		if trial%4 != 0 && n > 1 { // copy some earlier id onto a later one
			for range 1 + trial%3 {
				a, b := rng.IntN(n), rng.IntN(n)
				txs[max(a, b)].Id = txs[min(a, b)].Id
			}
		}
		wantIdx := -1
		seen := map[string]bool{}
		for i, tx := range txs {
			if seen[tx.Id] {
				wantIdx = i
				break
			}
			seen[tx.Id] = true
		}
		_, err := Check(context.Background(), "transactions", txs)
		if wantIdx < 0 {
			if err != nil {
				t.Fatalf("trial %d: unique ids refused: %v", trial, err)
			}
			continue
		}
		field := fmt.Sprintf("transactions[%d].id", wantIdx)
		if fe, ok := kerr.AsField(err); !ok || fe.Field != field {
			t.Fatalf("trial %d: error %v, want an invalid-argument naming %s", trial, err, field)
		}
	}
}

// TestRadixSortStable: radixSort on a bit range equals a stable sort by
// those bits.
func TestRadixSortStable(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, r := range [][2]int{{0, 64}, {20, 42}, {31, 64}, {5, 6}} {
		a := make([]uint64, 5000)
		for i := range a {
			a[i] = rng.Uint64() >> uint(rng.IntN(40))
		}
		key := func(v uint64) uint64 {
			v >>= r[0]
			if r[1]-r[0] < 64 {
				v &= 1<<(r[1]-r[0]) - 1
			}
			return v
		}
		want := slices.Clone(a)
		slices.SortStableFunc(want, func(x, y uint64) int {
			kx, ky := key(x), key(y)
			if kx < ky {
				return -1
			}
			if kx > ky {
				return 1
			}
			return 0
		})
		if got := radixSort(slices.Clone(a), make([]uint64, len(a)), r[0], r[1]); !slices.Equal(got, want) {
			t.Fatalf("bits %v: radix sort differs from a stable sort", r)
		}
	}
}

// TestTSOrderExtremes: ts values spanning the whole int64 range (the
// radix path cannot pack them) and a narrow range with many ties (it can)
// both give the stable order.
func TestTSOrderExtremes(t *testing.T) {
	for _, tss := range [][]int64{
		{math.MaxInt64, math.MinInt64, 0, -1, math.MaxInt64, 1, math.MinInt64},
		{5, 3, 5, 3, 4, 5, 3, 3, 4},
	} {
		txs := make([]*financev1.Transaction, len(tss))
		for i, ts := range tss {
			txs[i] = &financev1.Transaction{Ts: ts}
		}
		want := make([]int, len(tss))
		for i := range want {
			want[i] = i
		}
		slices.SortStableFunc(want, func(a, b int) int { return cmp.Compare(tss[a], tss[b]) })
		if got := TSOrder(txs); !slices.Equal(got, want) {
			t.Fatalf("ts %v: order %v, want %v", tss, got, want)
		}
	}
}

// TestInternerShortNames: every name of up to 6 bytes over {0x00, 'a',
// 0xff} (where word's overlapping loads and zero bytes could confuse two
// names) gets its own id, and Lookup finds each; then the table goes
// through PutInterner / GetInterner and is empty and correct again.
func TestInternerShortNames(t *testing.T) {
	names := []string{""}
	for l := 1; l <= 6; l++ {
		for _, s := range names {
			if len(s) == l-1 {
				for _, c := range []string{"\x00", "a", "\xff"} {
					names = append(names, s+c)
				}
			}
		}
	}
	for i := range 20000 { // more than MinPooled slots / 2, so the table is kept
		names = append(names, fmt.Sprintf("n%08d", i))
	}
	in := GetInterner(len(names))
	for round := range 2 {
		for i, s := range names {
			if id := in.ID(s); id != int32(i) {
				t.Fatalf("round %d: ID(%q) = %d, want %d", round, s, id, i)
			}
		}
		for i, s := range names {
			if id, ok := in.Lookup(s); !ok || id != int32(i) {
				t.Fatalf("round %d: Lookup(%q) = %d %v, want %d", round, s, id, ok, i)
			}
		}
		PutInterner(in)
		in = GetInterner(len(names))
		if in.Len() != 0 {
			t.Fatalf("a reused interner holds %d names", in.Len())
		}
		if _, ok := in.Lookup(names[5]); ok {
			t.Fatal("a reused interner still finds an old name")
		}
	}
}

// TestArraysReuse: Get returns the smallest kept array that fits, of the
// asked length; small arrays are not kept; the list stays bounded.
func TestArraysReuse(t *testing.T) {
	var a Arrays[int32]
	big, mid := a.Get(4*MinPooled), a.Get(2*MinPooled)
	a.Put(big, mid, make([]int32, 10))
	if got := a.Get(MinPooled + 1); len(got) != MinPooled+1 || cap(got) != cap(mid) {
		t.Fatalf("Get: len %d cap %d, want the 2*MinPooled array", len(got), cap(got))
	}
	if got := a.Get(3 * MinPooled); cap(got) != cap(big) {
		t.Fatalf("Get: cap %d, want the 4*MinPooled array", cap(got))
	}
	if len(a.free) != 0 {
		t.Fatalf("%d arrays left, want 0 (the small one is not kept)", len(a.free))
	}
	for range 3 * maxKept {
		a.Put(make([]int32, MinPooled))
	}
	if len(a.free) != maxKept || a.elems != maxKept*MinPooled {
		t.Fatalf("%d arrays / %d elements kept, want %d", len(a.free), a.elems, maxKept)
	}
}

// TestIDsHashedAndJoin: names interned through IDsHashed (hash and key
// computed apart, the name read from the transactions) into two class
// tables, then joined, give every endpoint the index of a map over the
// same names (short and long names, shared prefixes, NUL bytes, invalid
// UTF-8, the empty name, names over 255 bytes); the joined interner's
// Lookup and ID, indexed lazily, agree, and ID adds a new name after them.
func TestIDsHashedAndJoin(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	pool := []string{"", "\x00", "A", "\xff\xfe", "AAAAAAAA", "AAAAAAAA\x00", "AAAAAAAAB", strings.Repeat("z", 300), strings.Repeat("z", 301)}
	for i := range 400 {
		pool = append(pool, fmt.Sprintf("A%06d", rng.IntN(300)), strings.Repeat("y", i%20)+fmt.Sprint(i%37))
	}
	txs := make([]*financev1.Transaction, 3000)
	for i := range txs {
		txs[i] = &financev1.Transaction{SourceId: pool[rng.IntN(len(pool))], DestId: pool[rng.IntN(len(pool))]}
	}
	tables := make([]Interner, 2)
	ids := make([][]int32, 2)
	var ks [2][]int32
	for k := range int32(2 * len(txs)) {
		name := NameOf(txs, k)
		c := NameHash(name) >> 28 & 1
		var hs, keys [1]uint64
		var got [1]int32
		hs[0], keys[0] = NameHash(name), NameKey(name)
		tables[c].IDsHashed(txs, hs[:], keys[:], []int32{k}, got[:])
		ids[c] = append(ids[c], got[0])
		ks[c] = append(ks[c], k)
	}
	joined, off := Join(tables)
	want := map[string]int32{}
	for c := range 2 {
		for j, k := range ks[c] {
			name := NameOf(txs, k)
			id := ids[c][j] + off[c]
			if joined.Names[id] != name {
				t.Fatalf("endpoint %d (%q): index %d names %q", k, name, id, joined.Names[id])
			}
			if w, ok := want[name]; ok && w != id {
				t.Fatalf("%q has indexes %d and %d", name, w, id)
			}
			want[name] = id
		}
	}
	if joined.Len() != len(want) {
		t.Fatalf("%d names joined, %d distinct", joined.Len(), len(want))
	}
	for name, id := range want {
		if got, ok := joined.Lookup(name); !ok || got != id {
			t.Fatalf("Lookup(%q) = %d, %v; want %d", name, got, ok, id)
		}
		if got := joined.ID(name); got != id {
			t.Fatalf("ID(%q) = %d, want %d", name, got, id)
		}
	}
	if _, ok := joined.Lookup("never seen"); ok {
		t.Fatal("Lookup found a name never added")
	}
	if id := joined.ID("never seen"); id != int32(len(want)) || joined.Names[id] != "never seen" {
		t.Fatalf("ID of a new name = %d", id)
	}
}

// BenchmarkIDsHashed: 1M endpoint lookups among 50k names of 7 bytes (one
// name class of circular-flow's 1M-transaction case), hashed beforehand.
func BenchmarkIDsHashed(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 10))
	txs := make([]*financev1.Transaction, 500_000)
	for i := range txs {
		txs[i] = &financev1.Transaction{SourceId: fmt.Sprintf("A%06d", rng.IntN(50_000)), DestId: fmt.Sprintf("A%06d", rng.IntN(50_000))}
	}
	n := 2 * len(txs)
	hs, keys, ks, ids := make([]uint64, n), make([]uint64, n), make([]int32, n), make([]int32, n)
	for k := range int32(n) {
		name := NameOf(txs, k)
		hs[k], keys[k], ks[k] = NameHash(name), NameKey(name), k
	}
	b.ResetTimer()
	for range b.N {
		t := GetInterner(1 << 16)
		for lo := 0; lo < n; lo += 64 {
			hi := min(n, lo+64)
			t.IDsHashed(txs, hs[lo:hi], keys[lo:hi], ks[lo:hi], ids[lo:hi])
		}
		PutInterner(t)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/lookup")
}
