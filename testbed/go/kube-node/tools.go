//go:build tools

// Package tools pins the main packages this module builds: the node's and the control
// plane's other parts, from the same k8s.io/kubernetes release and replaces as
// ../kube-apiserver (a sibling module, so that kube-apiserver's pins and cached binary
// stay as they are).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
