package ocpm

import (
	"context"
	"strconv"
	"testing"

	procintv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/procint/v1"
)

// Per object type, Σ trace lengths equals the distinct E2O relations to
// the type, and OC-DFG flow is conserved; a repeated relationship to the
// same object counts once.
func TestFlatteningInvariants(t *testing.T) {
	in := &procintv1.OcpmPatternsInput{}
	for k := 0; k < 6; k++ {
		in.Objects = append(in.Objects, &procintv1.OcelObject{Id: "o" + strconv.Itoa(k), Type: "order"},
			&procintv1.OcelObject{Id: "i" + strconv.Itoa(k), Type: "item"})
	}
	rel := func(ids ...string) []*procintv1.Relationship {
		var r []*procintv1.Relationship
		for _, id := range ids {
			r = append(r, &procintv1.Relationship{ObjectId: id})
		}
		return r
	}
	distinct := map[string]int64{}
	for k := 0; k < 40; k++ {
		a, b := "o"+strconv.Itoa(k%6), "i"+strconv.Itoa((k*5)%6)
		ids := []string{a, b, a}
		if k%3 == 0 {
			ids = append(ids, "i"+strconv.Itoa((k+1)%6))
		}
		seen := map[string]bool{}
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				distinct[map[byte]string{'o': "order", 'i': "item"}[id[0]]]++
			}
		}
		in.Events = append(in.Events, &procintv1.OcelEvent{Id: "e" + strconv.Itoa(k), Activity: []string{"a", "b", "c"}[k%3],
			Ts: int64(k * 7 % 50), Relationships: rel(ids...)})
	}
	j, err := prepare(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Run(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range out.ObjectTypes {
		var starts, edges int64
		for _, s := range v.Start {
			starts += s.Count
		}
		for _, e := range v.Edges {
			edges += e.Count
		}
		if v.Relations != distinct[v.Type] || starts+edges != v.Relations {
			t.Fatalf("%s: relations %d, distinct %d, starts+edges %d", v.Type, v.Relations, distinct[v.Type], starts+edges)
		}
	}
}
