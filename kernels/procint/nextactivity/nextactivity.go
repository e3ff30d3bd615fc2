// Package nextactivity is procint/next-activity: an order-k Markov / n-gram
// model over the activities plus the end symbol ■, with Laplace smoothing,
// stupid backoff (Brants et al. 2007) down to the unigram, and the expected
// remaining steps of the absorbing order-1 chain (Kemeny & Snell 1960).
package nextactivity

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"

	procintv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/procint/v1"
	"github.com/gokernels/gokernels/kernels/limits"
	"github.com/gokernels/gokernels/kernels/procint/eventlog"
	"github.com/gokernels/gokernels/kernels/registry"
)

// Job is the trained model with the queries.
type Job struct {
	M         *Model
	Histories [][]string
	Test      *eventlog.Log
}

// Model holds the n-gram counts. Symbols are activity codes 0..V-1 and
// the end symbol V.
type Model struct {
	Acts    []string
	Code    map[string]int32
	Order   int
	Alpha   float64
	MinP    float64
	TopK    int
	Ctx     map[string][]int64 // context key -> counts per symbol
	Start   []int64            // first activities (the empty context)
	Unigram []int64
	Traces  int64
	Steps   []float64 // expected remaining steps per activity; NaN when undefined
}

// Kernel is procint/next-activity.
var Kernel = registry.Def[*procintv1.NextActivityInput, *procintv1.NextActivityOutput, *Job]{
	Meta: registry.Meta{
		ID:     "procint/next-activity",
		Domain: registry.DomainProcInt,
		Description: "Next-activity prediction by an order-k Markov / n-gram model with an end symbol, Laplace " +
			"smoothing and backoff; expected remaining steps of the absorbing chain; top-1/top-k evaluation.",
	},
	Prepare: prepare,
	CPU:     Run,
}

func key(ctx []int32) string {
	var b strings.Builder
	for _, c := range ctx {
		b.WriteString(strconv.Itoa(int(c)))
		b.WriteByte(',')
	}
	return b.String()
}

func prepare(ctx context.Context, in *procintv1.NextActivityInput) (*Job, error) {
	if err := eventlog.Check(ctx, "events", in.GetEvents()); err != nil {
		return nil, err
	}
	if err := eventlog.Check(ctx, "test_events", in.GetTestEvents()); err != nil {
		return nil, err
	}
	lim := limits.From(ctx)
	if err := limits.Check("histories", len(in.GetHistories()), lim.MaxOutputItems); err != nil {
		return nil, err
	}
	l, err := eventlog.Build(ctx, in.GetEvents())
	if err != nil {
		return nil, err
	}
	if err := limits.Check("events", len(l.Acts), lim.MaxAllPairsN); err != nil {
		return nil, err
	}
	m := &Model{Acts: l.Acts, Code: map[string]int32{}, Order: int(registry.Or(in.Order, 1)),
		Alpha: registry.Or(in.Alpha, 1.0), MinP: registry.Or(in.MinProbability, 0.01), TopK: int(registry.Or(in.TopK, 5)),
		Ctx: map[string][]int64{}}
	for i, a := range l.Acts {
		m.Code[a] = int32(i)
	}
	v := len(l.Acts) + 1
	m.Start = make([]int64, v)
	m.Unigram = make([]int64, v)
	end := int32(len(l.Acts))
	seq := []int32{}
	for t, tr := range l.Traces {
		if t&1023 == 1023 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		m.Traces++
		m.Start[tr[0]]++
		seq = append(append(seq[:0], tr...), end)
		for i, x := range seq {
			m.Unigram[x]++
			for L := 1; L <= m.Order && L <= i; L++ {
				k := key(seq[i-L : i])
				c := m.Ctx[k]
				if c == nil {
					c = make([]int64, v)
					m.Ctx[k] = c
				}
				c[x]++
			}
		}
	}
	m.Steps = m.steps()
	j := &Job{M: m}
	for _, h := range in.GetHistories() {
		j.Histories = append(j.Histories, h.GetActivities())
	}
	if len(in.GetTestEvents()) > 0 {
		if j.Test, err = eventlog.Build(ctx, in.GetTestEvents()); err != nil {
			return nil, err
		}
	}
	return j, nil
}

// dist is the smoothed distribution from counts.
func (m *Model) dist(c []int64) []float64 {
	var total int64
	for _, x := range c {
		total += x
	}
	p := make([]float64, len(c))
	den := float64(total) + m.Alpha*float64(len(c))
	for i, x := range c {
		if den > 0 {
			p[i] = (float64(x) + m.Alpha) / den
		}
	}
	return p
}

// Predict returns the full distribution for a history and the context
// length used; nil for an empty model.
func (m *Model) Predict(h []string) ([]float64, int32) {
	if m.Traces == 0 {
		return nil, 0
	}
	if len(h) == 0 {
		return m.dist(m.Start), 0
	}
	codes := make([]int32, len(h))
	for i, a := range h {
		c, ok := m.Code[a]
		if !ok {
			c = -1
		}
		codes[i] = c
	}
	for L := min(m.Order, len(codes)); L >= 1; L-- {
		suffix := codes[len(codes)-L:]
		if slices.Contains(suffix, -1) {
			continue
		}
		if c, ok := m.Ctx[key(suffix)]; ok {
			return m.dist(c), int32(L)
		}
	}
	return m.dist(m.Unigram), -1
}

func (m *Model) symbol(i int) string {
	if i == len(m.Acts) {
		return eventlog.End
	}
	return m.Acts[i]
}

// Top returns the predictions with p >= MinP sorted (−p, name), cut to TopK.
func (m *Model) Top(p []float64) []*procintv1.Prediction {
	var out []*procintv1.Prediction
	for i, v := range p {
		if v >= m.MinP {
			out = append(out, &procintv1.Prediction{Activity: m.symbol(i), Probability: v})
		}
	}
	slices.SortFunc(out, func(a, b *procintv1.Prediction) int {
		if a.Probability != b.Probability {
			if a.Probability > b.Probability {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Activity, b.Activity)
	})
	if len(out) > m.TopK {
		out = out[:m.TopK]
	}
	return out
}

// steps solves (I − Q) t = 1 on the smoothed order-1 chain, ■ absorbing;
// NaN for every activity when I − Q is singular.
func (m *Model) steps() []float64 {
	n := len(m.Acts)
	if n == 0 {
		return nil
	}
	a := make([][]float64, n)
	for i := range a {
		a[i] = make([]float64, n+1)
		c := m.Ctx[key([]int32{int32(i)})]
		if c == nil {
			c = make([]int64, n+1)
		}
		p := m.dist(c)
		for j := 0; j < n; j++ {
			a[i][j] = -p[j]
		}
		a[i][i]++
		a[i][n] = 1
	}
	// Gaussian elimination with partial pivoting.
	nan := func() []float64 {
		t := make([]float64, n)
		for i := range t {
			t[i] = math.NaN()
		}
		return t
	}
	for col := 0; col < n; col++ {
		piv := col
		for r := col + 1; r < n; r++ {
			if math.Abs(a[r][col]) > math.Abs(a[piv][col]) {
				piv = r
			}
		}
		if math.Abs(a[piv][col]) < 1e-12 {
			return nan()
		}
		a[col], a[piv] = a[piv], a[col]
		for r := 0; r < n; r++ {
			if r == col || a[r][col] == 0 {
				continue
			}
			f := a[r][col] / a[col][col]
			for k := col; k <= n; k++ {
				a[r][k] -= f * a[col][k]
			}
		}
	}
	t := make([]float64, n)
	for i := range t {
		t[i] = a[i][n] / a[i][i]
		if math.IsInf(t[i], 0) || math.IsNaN(t[i]) {
			return nan()
		}
	}
	return t
}

// Run answers the histories and evaluates on the test log.
func Run(ctx context.Context, j *Job) (*procintv1.NextActivityOutput, error) {
	m := j.M
	out := &procintv1.NextActivityOutput{}
	for i, h := range j.Histories {
		if i&1023 == 1023 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		p, used := m.Predict(h)
		hp := &procintv1.HistoryPrediction{Predictions: m.Top(p), ContextLengthUsed: used}
		if p != nil && len(h) > 0 {
			if c, ok := m.Code[h[len(h)-1]]; ok && !math.IsNaN(m.Steps[c]) {
				v := m.Steps[c]
				hp.ExpectedRemainingSteps = &v
			}
		}
		out.Predictions = append(out.Predictions, hp)
	}
	if j.Test != nil {
		ev := &procintv1.Evaluation{}
		var top1, topk int64
		for t, tr := range j.Test.Traces {
			if t&255 == 255 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			names := make([]string, len(tr)+1)
			for i, a := range tr {
				names[i] = j.Test.Acts[a]
			}
			names[len(tr)] = eventlog.End
			for i := range names {
				ev.Prefixes++
				p, _ := m.Predict(names[:i])
				top := m.Top(p)
				for r, pr := range top {
					if pr.Activity == names[i] {
						topk++
						if r == 0 {
							top1++
						}
						break
					}
				}
			}
		}
		ev.Top1Accuracy = float64(top1) / float64(ev.Prefixes)
		ev.TopkAccuracy = float64(topk) / float64(ev.Prefixes)
		out.Evaluation = ev
	}
	return out, nil
}
