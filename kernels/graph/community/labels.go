// Package community holds what the community kernels share: the canonical
// numbering of a partition.
//
// The algorithms themselves live in the subpackages modularity, louvain and
// labelprop.
package community

// Canonical renumbers labels so that communities are 0, 1, ... in the order
// of their smallest node: two labelings of the same partition become equal
// slices, which makes outputs comparable and deterministic. It returns the
// new labels and the number of communities. labels may hold any int32 values.
func Canonical(labels []int32) ([]int32, int) {
	out := make([]int32, len(labels))
	ids := make(map[int32]int32, 16)
	for i, l := range labels {
		id, ok := ids[l]
		if !ok {
			id = int32(len(ids))
			ids[l] = id
		}
		out[i] = id
	}
	return out, len(ids)
}
