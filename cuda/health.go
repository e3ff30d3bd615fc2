package cuda

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
)

// Health statuses (as server/service names them).
const (
	healthy  = "healthy"
	degraded = "degraded"
)

// RecentError is how long a device error keeps the component degraded.
const RecentError = 5 * time.Minute

// Health implements service.GPUHealth: device name, compute capability,
// memory used/total (driver view), the budget, the last error and the
// fallback counts. The component is never "unhealthy": without a usable GPU
// every kernel still runs on the CPU, so it is "degraded" at worst.
func (s *Selector) Health() *gokernelsv1.ComponentHealth {
	d := map[string]string{"present": strconv.FormatBool(len(s.devices) > 0), "devices": strconv.Itoa(len(s.devices))}
	for reason, n := range s.Fallbacks() {
		d["fallbacks_"+reason] = strconv.FormatInt(n, 10)
	}
	d["gpu_executions"] = strconv.FormatInt(s.gpuRuns.Load(), 10)
	if len(s.devices) == 0 {
		if s.discoveryErr != nil {
			d["error"] = s.discoveryErr.Error()
			return &gokernelsv1.ComponentHealth{Status: degraded, Details: d,
				Message: "CUDA backend built in but no device is usable: every kernel runs on the CPU"}
		}
		return &gokernelsv1.ComponentHealth{Status: healthy, Details: d,
			Message: "CUDA backend built in, no CUDA device found: every kernel runs on the CPU"}
	}
	status := healthy
	var problems []string
	now := s.now()
	broken := 0
	for i, sl := range s.devices {
		prefix := ""
		if i > 0 {
			prefix = fmt.Sprintf("gpu%d_", i)
		}
		info := sl.info
		d[prefix+"device"] = info.Name
		d[prefix+"ordinal"] = strconv.Itoa(info.Ordinal)
		d[prefix+"compute_capability"] = info.ComputeCapability()
		if free, total, err := sl.dev.MemInfo(); err == nil {
			d[prefix+"memory_used_bytes"] = strconv.FormatInt(total-free, 10)
			d[prefix+"memory_total_bytes"] = strconv.FormatInt(total, 10)
		} else {
			d[prefix+"memory_error"] = err.Error()
		}
		d[prefix+"budget_bytes"] = strconv.FormatInt(sl.budget.Limit(), 10)
		d[prefix+"budget_reserved_bytes"] = strconv.FormatInt(sl.budget.Reserved(), 10)
		sl.mu.Lock()
		d[prefix+"executions"] = strconv.FormatInt(sl.runs, 10)
		d[prefix+"errors"] = strconv.FormatInt(sl.errors, 10)
		d[prefix+"last_error"] = sl.lastErr
		if !sl.lastErrAt.IsZero() {
			d[prefix+"last_error_time"] = sl.lastErrAt.UTC().Format(time.RFC3339)
		}
		isBroken, recent := sl.broken, !sl.lastErrAt.IsZero() && now.Sub(sl.lastErrAt) < RecentError
		sl.mu.Unlock()
		switch {
		case isBroken:
			broken++
			d[prefix+"state"] = "out_of_service"
			status = degraded
			problems = append(problems, fmt.Sprintf("GPU %d is out of service after a device error", info.Ordinal))
		case recent:
			d[prefix+"state"] = "recent_error"
			status = degraded
			problems = append(problems, fmt.Sprintf("GPU %d failed %s ago", info.Ordinal, now.Sub(sl.lastErrAt).Round(time.Second)))
		default:
			d[prefix+"state"] = "ok"
		}
	}
	msg := ""
	if len(problems) > 0 {
		msg = strings.Join(problems, "; ")
		if broken == len(s.devices) {
			msg += ": every kernel runs on the CPU"
		} else {
			msg += ": affected requests run on the CPU"
		}
	}
	return &gokernelsv1.ComponentHealth{Status: status, Message: msg, Details: d}
}
