// Package simuser generates seeded synthetic behavioural event streams for
// tests and benchmarks: users with sessions, devices and locations (some
// absent), Unicode event types, random order, and a velocity burst.
package simuser

import (
	"math/rand/v2"
	"strconv"

	behavioralv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/behavioral/v1"
)

// Types are the simulated event types.
var Types = []string{"login", "view", "transfer", "logout", "пароль", "支付"}

// Events returns n events of the given number of users over days days,
// in random (not ts) order.
func Events(seed uint64, users, n, days int) []*behavioralv1.UserEvent {
	rng := rand.New(rand.NewPCG(seed, 0xbe4a))
	pick := func(opts ...string) string { return opts[rng.IntN(len(opts))] }
	out := make([]*behavioralv1.UserEvent, 0, n+25)
	for i := 0; i < n; i++ {
		out = append(out, &behavioralv1.UserEvent{
			UserId:    "u" + strconv.Itoa(rng.IntN(users)),
			EventType: Types[rng.IntN(len(Types))],
			Ts:        int64(1_700_000_000 + rng.IntN(days*86400)),
			SessionId: pick("", "s"+strconv.Itoa(rng.IntN(30))),
			DeviceId:  pick("", "d1", "d2", "d"+strconv.Itoa(rng.IntN(9))),
			Location:  pick("", "Berlin", "Zürich", "東京", "L"+strconv.Itoa(rng.IntN(6))),
		})
	}
	t0 := int64(1_700_000_000 + days*86400/2)
	for k := 0; k < 25; k++ {
		out = append(out, &behavioralv1.UserEvent{UserId: "u0", EventType: "transfer", Ts: t0 + int64(k*60),
			SessionId: "burst", DeviceId: "dX", Location: "Lagos"})
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	for i, e := range out {
		e.Id = "ev" + strconv.Itoa(i)
	}
	return out
}
