package fraudsignatures

import (
	"math"
	"slices"

	behavioralv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/behavioral/v1"
	"github.com/gokernels/gokernels/kernels/behavioral/userevent"
)

// Det is the online detection state of one (signature, user): what a new
// event needs to tell whether it completes a match, without rescanning
// the user's stream.
type Det struct {
	// Runs are SKIP_TILL_NEXT_MATCH partial matches (event indexes, the
	// anchor first), each waiting for the next type of the sequence.
	Runs [][]int `json:"runs,omitempty"`
	// Last is TIME_WINDOW's latest index per listed type.
	Last map[string]int `json:"last,omitempty"`
	// Pos is COUNT_THRESHOLD's deque of the type's events within the
	// window before the newest.
	Pos []int `json:"pos,omitempty"`
	// Matched counts EVENT_ATTRIBUTES and REGEX matches.
	Matched int `json:"matched,omitempty"`
}

// Detect adds event e (already appended as the user's index i) to the
// detection state of each active signature and returns the matches it
// completes: at most one per signature (the best, by the Batch order of
// candidates), ending at e. A (signature, user) pair has a Batch match if
// and only if some event of the user's stream completed one.
func (s *State) Detect(user string, i int) []*behavioralv1.SignatureMatch {
	evs := s.Users[user]
	dets := s.Det[user]
	if dets == nil {
		dets = make([]*Det, len(s.Sigs))
		for k := range dets {
			dets[k] = &Det{}
		}
		s.Det[user] = dets
	}
	e := evs[i]
	typ := e.GetEventType()
	var out []*behavioralv1.SignatureMatch
	for k := range s.Sigs {
		sig := &s.Sigs[k]
		if sig.Active != nil && !sig.GetActive() {
			continue
		}
		d := dets[k]
		sev := sig.GetSeverity()
		var best *match
		consider := func(m *match) {
			if better(m, best, evs) {
				best = m
			}
		}
		switch sig.GetKind() {
		case "EVENT_SEQUENCE":
			seq := sig.GetSequence()
			seqMatch := func(idx []int) {
				span := evs[idx[len(idx)-1]].GetTs() - evs[idx[0]].GetTs()
				if sig.WithinSeconds != nil && span > sig.GetWithinSeconds() {
					return
				}
				consider(&match{score: tier(span) * sev / 100, idx: idx, anchor: idx[0]})
			}
			if sig.GetContiguity() == "SKIP_TILL_NEXT_MATCH" {
				// Every run waiting for this type takes this event (it is
				// the next one of that type after the run's last event).
				kept := d.Runs[:0]
				for _, run := range d.Runs {
					if seq[len(run)] == typ {
						run = append(run, i)
						if len(run) == len(seq) {
							seqMatch(run)
							continue
						}
					}
					kept = append(kept, run)
				}
				d.Runs = kept
				if typ == seq[0] {
					if len(seq) == 1 {
						seqMatch([]int{i})
					} else {
						d.Runs = append(d.Runs, []int{i})
					}
				}
				break
			}
			if n := len(seq); i+1 >= n {
				ok := true
				for q, t := range seq {
					if evs[i+1-n+q].GetEventType() != t {
						ok = false
						break
					}
				}
				if ok {
					seqMatch(rangeIdx(i+1-n, i+1))
				}
			}
		case "EVENT_ATTRIBUTES":
			if typ == sig.GetEventType() && attrsMatch(e.GetAttributes(), sig.GetAttributes()) {
				d.Matched++
				best = &match{score: sev * math.Min(1, float64(d.Matched)/float64(len(evs))), idx: []int{i}}
			}
		case "REGEX":
			if sig.re.MatchString(typ) || anyString(e.GetAttributes(), sig.re) {
				d.Matched++
				best = &match{score: sev * math.Min(1, float64(d.Matched)/float64(len(evs))), idx: []int{i}}
			}
		case "TIME_WINDOW":
			if !slices.Contains(sig.GetEventTypes(), typ) {
				break
			}
			if d.Last == nil {
				d.Last = map[string]int{}
			}
			d.Last[typ] = i
			a := i
			for _, t := range sig.GetEventTypes() {
				l, ok := d.Last[t]
				if !ok {
					a = -1
					break
				}
				a = min(a, l)
			}
			// The tightest window ending here: from the earliest of the
			// latest occurrences of the listed types.
			w := sig.GetWindowSeconds()
			if a >= 0 && e.GetTs() <= userevent.AddSat(evs[a].GetTs(), w) {
				span := e.GetTs() - evs[a].GetTs()
				frac := 0.0
				if w > 0 {
					frac = float64(span) / float64(w)
				}
				best = &match{score: sev * (0.5 + 0.5*(1-frac)), idx: rangeIdx(a, i+1), anchor: a}
			}
		case "COUNT_THRESHOLD":
			if typ != sig.GetEventType() {
				break
			}
			lo := userevent.AddSat(e.GetTs(), -sig.GetWindowSeconds())
			k := 0
			for k < len(d.Pos) && evs[d.Pos[k]].GetTs() < lo {
				k++
			}
			d.Pos = append(d.Pos[k:], i)
			if n := len(d.Pos); n >= int(sig.GetCount()) {
				best = &match{score: sev * (0.5 + 0.5*math.Min(1, float64(n)/float64(sig.GetCount())-1)),
					idx: slices.Clone(d.Pos), anchor: d.Pos[0]}
			}
		}
		if best != nil {
			sm := &behavioralv1.SignatureMatch{SignatureId: sig.GetId(), UserId: user, Score: best.score,
				StartTs: evs[best.idx[0]].GetTs(), EndTs: evs[best.idx[len(best.idx)-1]].GetTs()}
			for _, x := range best.idx {
				sm.EventIds = append(sm.EventIds, evs[x].GetId())
			}
			out = append(out, sm)
		}
	}
	return out
}
