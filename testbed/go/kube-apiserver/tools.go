//go:build tools

// Package tools pins the main package this module builds; `go build` of
// k8s.io/kubernetes/cmd/kube-apiserver resolves through this module's go.mod.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
