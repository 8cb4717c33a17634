//go:build tools

// Package tools pins the main package this module builds.
package tools

import _ "github.com/aws-controllers-k8s/sagemaker-controller/cmd/controller"
