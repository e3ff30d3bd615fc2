# gokernels — developer commands. `make help` lists them.
SHELL := /bin/bash
GO ?= go
TOOL := $(GO) tool -modfile=tools/go.mod
BIN := bin/gokernels
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/gokernels/gokernels/server/version.Version=$(VERSION)

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

.PHONY: build
build: ## Build bin/gokernels
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/gokernels

.PHONY: run
run: build ## Build and start the server with development defaults (REST+gRPC :8080, gRPC :50051)
	./$(BIN) serve

.PHONY: protodeps
protodeps: ## Print third-party .proto files from compiled descriptors (offline)
	rm -rf third_party/proto && cd tools && $(GO) run ./protodeps ../third_party/proto

.PHONY: generate
generate: protodeps ## Regenerate Go stubs, gateway and OpenAPI from proto/
	$(TOOL) buf format -w proto
	$(TOOL) buf lint
	@# Generate into a scratch folder, then swap it in: gen/ is missing only for an instant.
	rm -rf .gen.tmp && mkdir -p .gen.tmp
	sed -e 's#out: gen#out: .gen.tmp/gen#' -e 's#out: openapi#out: .gen.tmp/openapi#' buf.gen.yaml > .gen.tmp/buf.gen.yaml
	$(TOOL) buf generate --template .gen.tmp/buf.gen.yaml
	rm -rf gen openapi && mv .gen.tmp/gen gen && mv .gen.tmp/openapi openapi && rm -rf .gen.tmp

.PHONY: lint-proto
lint-proto: ## buf lint
	$(TOOL) buf lint

.PHONY: check-generated
check-generated: ## Fail if regenerating would change gen/, openapi/ or third_party/proto, or protos are unformatted
	$(TOOL) buf lint
	$(TOOL) buf format --diff --exit-code proto
	rm -rf .gen.check && mkdir -p .gen.check
	cd tools && $(GO) run ./protodeps ../.gen.check/third_party/proto
	sed -e 's#out: gen#out: .gen.check/gen#' -e 's#out: openapi#out: .gen.check/openapi#' buf.gen.yaml > .gen.check/buf.gen.yaml
	$(TOOL) buf generate --template .gen.check/buf.gen.yaml
	@diff -r .gen.check/gen gen && diff -r .gen.check/openapi openapi && diff -r .gen.check/third_party/proto third_party/proto \
		|| { echo "generated files are stale: run 'make generate' and commit the result"; rm -rf .gen.check; exit 1; }
	rm -rf .gen.check

.PHONY: test
test: check-generated ## Run every test (generation freshness, buf lint, go vet, go test, deployment manifests)
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...
	cd deploy && $(GO) vet ./... && $(GO) test -count=1 ./...

.PHONY: docs
docs: ## Regenerate the README configuration table from the settings table
	$(GO) run ./cmd/gokernels docs-config > .config-table.md
	awk 'BEGIN{skip=0} /<!-- config-table:start -->/{print; while((getline l < ".config-table.md")>0) print l; skip=1; next} /<!-- config-table:end -->/{skip=0} !skip{print}' README.md > README.md.tmp && mv README.md.tmp README.md && rm -f .config-table.md

.PHONY: fixtures
fixtures: ## Regenerate reference fixtures (needs Debian's python3-networkx, -scipy, -sklearn, -statsmodels, -igraph)
	for f in scripts/fixtures/*.py; do echo "== $$f"; /usr/bin/python3 $$f || exit 1; done

FUZZTIME ?= 20s
.PHONY: fuzz
fuzz: ## Fuzz every kernel's Execute input path and the JSON decoders (FUZZTIME=20s each)
	$(GO) test ./kernels/catalog -run '^$$' -fuzz FuzzExecute -fuzztime $(FUZZTIME)
	$(GO) test ./server/jsoninput -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME)
