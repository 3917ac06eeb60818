//go:build tools

// Package tools pins kube-state-metrics, which scripts/setup builds for the
// end-to-end metrics suite (e2e/metrics.bash): the alert rules on hook Jobs and
// reconciler readiness read its series.
package tools

import (
	_ "k8s.io/kube-state-metrics/v2"
)
