//go:build tools

// Package tools pins Helm and the helm-unittest plugin that scripts/setup builds.
package tools

import (
	_ "github.com/helm-unittest/helm-unittest/cmd/helm-unittest"
	_ "helm.sh/helm/v3/cmd/helm"
)
