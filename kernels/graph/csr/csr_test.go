package csr

import "testing"

func TestBuildUndirectedDedupAndLoops(t *testing.T) {
	// 0-1 twice (last weight 5 wins), 1-0 reversed duplicate, a self-loop on 2.
	g, err := Build(3, []int32{0, 1, 2, 0}, []int32{1, 0, 2, 1}, []float64{1, 3, 2, 5}, false)
	if err != nil {
		t.Fatal(err)
	}
	if g.NumEdges != 2 || g.SelfLoops != 1 {
		t.Fatalf("edges=%d loops=%d, want 2 and 1", g.NumEdges, g.SelfLoops)
	}
	if w, ok := g.EdgeWeight(1, 0); !ok || w != 5 {
		t.Fatalf("weight(1,0)=%v,%v want 5", w, ok)
	}
	if g.Degree(2) != 2 || g.Degree(0) != 1 {
		t.Fatalf("degree(2)=%d degree(0)=%d, want 2 and 1", g.Degree(2), g.Degree(0))
	}
}

func TestBuildDirectedIn(t *testing.T) {
	g, err := Build(3, []int32{0, 0, 2}, []int32{1, 2, 1}, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	in := g.InNeighbors(1)
	if len(in) != 2 || in[0] != 0 || in[1] != 2 {
		t.Fatalf("in(1)=%v want [0 2]", in)
	}
	if g.HasEdge(1, 0) {
		t.Fatal("directed graph has reverse edge")
	}
}

func TestBuildRejectsOutOfRange(t *testing.T) {
	_, err := Build(2, []int32{0, 1}, []int32{1, 2}, nil, false)
	ee, ok := err.(*EdgeError)
	if !ok || ee.Index != 1 {
		t.Fatalf("err=%v, want EdgeError at 1", err)
	}
}
