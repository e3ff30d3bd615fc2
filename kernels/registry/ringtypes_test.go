package registry

import "testing"

// The event field names are part of each kernel's typed ring event: a
// change here renames generated fields (kernelsvcgen) and the server's
// routing of kinds to them alike, so they are pinned.
func TestEventField(t *testing.T) {
	for kind, want := range map[string]string{
		"RapidMovementAlert": "rapid_movement_alert",
		"OrderState":         "order_state",
		"cluster_merged":     "cluster_merged",
		"entry":              "entry",
		"AnomalyDetected":    "anomaly_detected",
		"HTTPStatus":         "http_status",
		"Fill2Done":          "fill2_done",
		"status-change":      "status_change",
	} {
		if got := EventField(kind); string(got) != want {
			t.Errorf("EventField(%q) = %q, want %q", kind, got, want)
		}
	}
}
