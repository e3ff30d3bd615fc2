// Package deploy holds the container and Kubernetes deployment files of
// gokernels (../Dockerfile, docker-compose.yml, k8s/) and the tests that check
// them: the Dockerfile parsed with buildkit's parser, every Kubernetes manifest
// decoded strictly into the Kubernetes API types and built with kustomize, and
// docker-compose.yml loaded with the Compose specification loader.
//
// It is a separate Go module so that its dependencies (k8s.io/api, kustomize,
// buildkit, compose-go) stay out of the server's go.mod. Run its tests with
//
//	cd deploy && go test ./...
package deploy
