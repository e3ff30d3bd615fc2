// Package userstats keeps exact per-user sufficient statistics of a
// behavioural event stream — hour and weekday counts, type counts, first
// and last ts, Welford (1962) moments of the gaps, session extents,
// device and location sets with switch counts — and derives the 17
// profile features from them. Shared by behavioral/profiling and
// behavioral/anomaly; adding events in ts order is all a ring fold does.
package userstats

import (
	"math"
	"sort"

	"github.com/gokernels/gokernels/kernels/behavioral/userevent"
)

// Rec is the part of an event the statistics read.
type Rec struct {
	TS       int64
	Type     string
	Session  string
	Device   string
	Location string
}

// Extent is a session's first and last ts.
type Extent struct{ Min, Max int64 }

// Stats are one user's statistics. Fields are exported so a ring can
// serialise them (encoding/json writes map keys sorted).
type Stats struct {
	N                int64
	Hours            [24]int64
	Weekdays         [7]int64          // ISO weekday − 1
	Types            map[string]*int64 // a pointer: one lookup per event, no map write
	First, Last      int64
	GapMean, GapM2   float64
	Sessions         map[string]*Extent
	NoSession        bool
	Devices          map[string]bool
	Locations        map[string]bool
	LastDevice       string
	LastLocation     string
	DeviceSwitches   int64
	LocationSwitches int64

	// The current session's extent, so consecutive events of one session
	// skip the map lookup (a cache: not serialised, rebuilt on demand).
	curName string
	cur     *Extent
}

// New returns empty statistics.
func New() *Stats {
	return &Stats{Types: map[string]*int64{}, Sessions: map[string]*Extent{},
		Devices: map[string]bool{}, Locations: map[string]bool{}}
}

// Add folds one event (events must arrive in ts order).
func (s *Stats) Add(r Rec, tz int32) {
	if s.N == 0 {
		s.First = r.TS
	} else {
		gap := float64(r.TS - s.Last)
		k := float64(s.N) // number of gaps after this one
		d := gap - s.GapMean
		s.GapMean += d / k
		s.GapM2 += d * (gap - s.GapMean)
	}
	s.Last = r.TS
	s.N++
	s.Hours[userevent.Hour(r.TS, tz)]++
	s.Weekdays[userevent.Weekday(r.TS, tz)-1]++
	if c := s.Types[r.Type]; c != nil {
		*c++
	} else {
		one := int64(1)
		s.Types[r.Type] = &one
	}
	switch {
	case r.Session == "":
		s.NoSession = true
	case s.cur != nil && r.Session == s.curName:
		s.cur.Min, s.cur.Max = min(s.cur.Min, r.TS), max(s.cur.Max, r.TS)
	default:
		e := s.Sessions[r.Session]
		if e != nil {
			e.Min, e.Max = min(e.Min, r.TS), max(e.Max, r.TS)
		} else {
			e = &Extent{r.TS, r.TS}
			s.Sessions[r.Session] = e
		}
		s.curName, s.cur = r.Session, e
	}
	// The last present value is already in its set: only a change needs
	// the set (and counts a switch).
	if r.Device != "" && r.Device != s.LastDevice {
		if s.LastDevice != "" {
			s.DeviceSwitches++
		}
		s.LastDevice = r.Device
		if !s.Devices[r.Device] {
			s.Devices[r.Device] = true
		}
	}
	if r.Location != "" && r.Location != s.LastLocation {
		if s.LastLocation != "" {
			s.LocationSwitches++
		}
		s.LastLocation = r.Location
		if !s.Locations[r.Location] {
			s.Locations[r.Location] = true
		}
	}
}

// Names are the 17 features in output order.
var Names = []string{
	"peak_hour", "business_hours_ratio", "night_activity_ratio", "weekend_ratio", "hour_entropy",
	"avg_events_per_day", "dominant_event_ratio", "event_type_diversity", "mean_inter_event_time",
	"inter_event_std", "session_count", "avg_events_per_session", "avg_session_duration",
	"unique_device_count", "unique_location_count", "device_switch_rate", "location_switch_rate",
}

// SpanDays is (last − first ts) in fractional days.
func (s *Stats) SpanDays() float64 { return float64(s.Last-s.First) / 86400 }

// Features returns the 17 features in Names order (all 0 for no events).
func (s *Stats) Features() []float64 {
	f := make([]float64, len(Names))
	if s.N == 0 {
		return f
	}
	n := float64(s.N)
	peak := 0
	var business, night int64
	entropy := 0.0
	for h, c := range s.Hours {
		if c > s.Hours[peak] {
			peak = h
		}
		if h >= 9 && h <= 17 {
			business += c
		}
		if h >= 22 || h <= 5 {
			night += c
		}
		if c > 0 {
			p := float64(c) / n
			entropy -= p * math.Log(p)
		}
	}
	var dominant int64
	for _, c := range s.Types {
		dominant = max(dominant, *c)
	}
	f[0] = float64(peak)
	f[1] = float64(business) / n
	f[2] = float64(night) / n
	f[3] = float64(s.Weekdays[5]+s.Weekdays[6]) / n
	f[4] = entropy
	f[5] = n / math.Max(s.SpanDays(), 1)
	f[6] = float64(dominant) / n
	f[7] = float64(len(s.Types)) / n
	if s.N > 1 {
		f[8] = s.GapMean
		f[9] = math.Sqrt(math.Max(s.GapM2/float64(s.N-1), 0))
	}
	sessions := float64(len(s.Sessions))
	f[10] = sessions
	den := sessions
	if s.NoSession {
		den++
	}
	f[11] = n / den
	if len(s.Sessions) > 0 {
		// Sum in key order so the result does not depend on map order.
		keys := make([]string, 0, len(s.Sessions))
		for k := range s.Sessions {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var dur float64
		for _, k := range keys {
			e := s.Sessions[k]
			dur += float64(e.Max - e.Min)
		}
		f[12] = dur / sessions
	}
	f[13] = float64(len(s.Devices))
	f[14] = float64(len(s.Locations))
	f[15] = float64(s.DeviceSwitches) / n
	f[16] = float64(s.LocationSwitches) / n
	return f
}

// Confidence is 0.4·min(n/100, 1) + 0.3·min(span days/30, 1) +
// 0.3·min(avg events per day/10, 1).
func (s *Stats) Confidence() float64 {
	n := float64(s.N)
	density := n / math.Max(s.SpanDays(), 1)
	return 0.4*math.Min(n/100, 1) + 0.3*math.Min(s.SpanDays()/30, 1) + 0.3*math.Min(density/10, 1)
}

// Stability compares the features of the first ⌊n/2⌋ events with those of
// the rest: the mean of 1 − |a−b|/(|a|+|b|+1e-3) over features with
// max(|a|, |b|) > 1e-3; 0.5 when none qualifies; 0 for n < 10.
func Stability(recs []Rec, tz int32) float64 {
	if len(recs) < 10 {
		return 0
	}
	h := len(recs) / 2
	a, b := New(), New()
	for _, r := range recs[:h] {
		a.Add(r, tz)
	}
	for _, r := range recs[h:] {
		b.Add(r, tz)
	}
	fa, fb := a.Features(), b.Features()
	var sum float64
	var k int
	for i := range fa {
		x, y := math.Abs(fa[i]), math.Abs(fb[i])
		if math.Max(x, y) <= 1e-3 {
			continue
		}
		sum += 1 - math.Abs(fa[i]-fb[i])/(x+y+1e-3)
		k++
	}
	if k == 0 {
		return 0.5
	}
	return sum / float64(k)
}
