# gokernels — developer commands. `make help` lists them.
SHELL := /bin/bash
GO ?= go
TOOL := $(GO) tool -modfile=tools/go.mod
BIN := bin/gokernels
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/gokernels/gokernels/server/observe.Version=$(VERSION)

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
generate: protodeps ## Regenerate the kernel services, Go stubs, gateway and OpenAPI from proto/ and the registry
	@# The per-domain kernel services come from the registry (one RPC per kernel).
	$(GO) run ./internal/cmd/kernelsvcgen -out proto
	$(TOOL) buf format -w proto
	$(TOOL) buf lint
	@# Generate into a scratch folder, then swap it in: gen/ is missing only for an instant.
	rm -rf .gen.tmp && mkdir -p .gen.tmp
	sed -e 's#out: gen#out: .gen.tmp/gen#' -e 's#out: openapi#out: .gen.tmp/openapi#' buf.gen.yaml > .gen.tmp/buf.gen.yaml
	$(TOOL) buf generate --template .gen.tmp/buf.gen.yaml
	rm -rf gen openapi && mv .gen.tmp/gen gen && mv .gen.tmp/openapi openapi && rm -rf .gen.tmp
	@# What protoc-gen-openapiv2 cannot express (internal/cmd/openapienrich), then OpenAPI 3.
	$(MAKE) --no-print-directory openapi-finish OPENAPI_DIR=openapi
	@# Python stubs (clients/python/gen) with Debian's protoc and gRPC plugin.
	bash scripts/gen-python.sh clients/python/gen

# The Swagger 2.0 file from buf gets readable schema names, validation
# bounds, defaults and tuple arrays (internal/cmd/openapienrich), then is
# converted to OpenAPI 3.0 (tools/openapi3, kin-openapi).
.PHONY: openapi-finish
openapi-finish:
	$(GO) run ./internal/cmd/openapienrich -spec $(OPENAPI_DIR)/gokernels.swagger.json
	cd tools && $(GO) run ./openapi3 $(abspath $(OPENAPI_DIR))/gokernels.swagger.json $(abspath $(OPENAPI_DIR))/gokernels.openapi.json

.PHONY: lint-proto
lint-proto: ## buf lint
	$(TOOL) buf lint

.PHONY: check-generated
check-generated: ## Fail if regenerating would change gen/, openapi/ (Swagger 2.0 and OpenAPI 3), clients/python/gen, third_party/proto or the kernel services, or protos are unformatted
	$(TOOL) buf lint
	$(TOOL) buf format --diff --exit-code proto
	$(GO) run ./internal/cmd/kernelsvcgen -out proto -check
	rm -rf .gen.check && mkdir -p .gen.check
	cd tools && $(GO) run ./protodeps ../.gen.check/third_party/proto
	sed -e 's#out: gen#out: .gen.check/gen#' -e 's#out: openapi#out: .gen.check/openapi#' buf.gen.yaml > .gen.check/buf.gen.yaml
	$(TOOL) buf generate --template .gen.check/buf.gen.yaml
	$(MAKE) --no-print-directory openapi-finish OPENAPI_DIR=.gen.check/openapi
	bash scripts/gen-python.sh .gen.check/python
	@diff -r .gen.check/gen gen && diff -r .gen.check/openapi openapi && diff -r .gen.check/third_party/proto third_party/proto \
		&& diff -r -x __pycache__ .gen.check/python clients/python/gen \
		|| { echo "generated files are stale: run 'make generate' and commit the result"; rm -rf .gen.check; exit 1; }
	rm -rf .gen.check

# The API must not break silently: buf breaking (FILE rules, buf.yaml)
# compares proto/ with the protos of BREAKING_REF, exported with git archive
# (works offline and in worktrees). Override for a range, e.g.
# BREAKING_REF=v1.0.0 or BREAKING_REF=main.
BREAKING_REF ?= HEAD~1
.PHONY: check-breaking
check-breaking: ## buf breaking against the protos of BREAKING_REF (default: the previous commit)
	@rm -rf .breaking && mkdir -p .breaking
	@if git cat-file -e $(BREAKING_REF):proto 2>/dev/null; then \
		git archive $(BREAKING_REF) proto third_party/proto buf.yaml | tar -x -C .breaking && \
		$(TOOL) buf breaking --against .breaking; rc=$$?; rm -rf .breaking; exit $$rc; \
	else echo "check-breaking: $(BREAKING_REF) has no proto/; nothing to compare"; rm -rf .breaking; fi

.PHONY: check-tidy
check-tidy: ## Fail if go mod tidy would change go.mod/go.sum (root, tools and deploy modules)
	$(GO) mod tidy -diff
	cd tools && $(GO) mod tidy -diff
	cd deploy && $(GO) mod tidy -diff

.PHONY: lint
lint: ## golangci-lint with the committed .golangci.yml (built from the tools module; offline once downloaded)
	$(TOOL) golangci-lint run ./...

.PHONY: test
test: check-generated check-tidy check-breaking lint ## Run every test (generation freshness, tidy, buf breaking, golangci-lint, go vet, go test, deployment manifests)
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...
	cd deploy && $(GO) vet ./... && $(GO) test -count=1 ./...

.PHONY: test-cluster
test-cluster: ## Cluster mode proofs alone, verbose (embedded 3-node JetStream; CLUSTER_MSGS=100000 for the full stream)
	GOKERNELS_CLUSTER_MSGS=$(CLUSTER_MSGS) $(GO) test -count=1 -timeout 20m -v ./cluster/...

CLUSTER_MSGS ?= 6000

.PHONY: docs
docs: ## Regenerate the README configuration table from the settings table
	$(GO) run ./cmd/gokernels docs-config > .config-table.md
	awk 'BEGIN{skip=0} /<!-- config-table:start -->/{print; while((getline l < ".config-table.md")>0) print l; skip=1; next} /<!-- config-table:end -->/{skip=0} !skip{print}' README.md > README.md.tmp && mv README.md.tmp README.md && rm -f .config-table.md

.PHONY: fixtures
fixtures: ## Regenerate reference fixtures (needs Debian's python3-networkx, -scipy, -sklearn, -statsmodels, -igraph)
	for f in scripts/fixtures/*.py; do echo "== $$f"; /usr/bin/python3 $$f || exit 1; done

FUZZTIME ?= 20s
.PHONY: fuzz
fuzz: ## Fuzz every kernel's Execute input path, the JSON decoders and the event-log rings' replay law (FUZZTIME=20s each)
	$(GO) test ./kernels/catalog -run '^$$' -fuzz FuzzExecute -fuzztime $(FUZZTIME)
	$(GO) test ./server/jsoninput -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME)
	@# The ring seeds are whole fixture logs (tens of KB): the default 60 s minimisation of each
	@# interesting input would take the whole fuzz time (measured: 15 execs in 30 s; 8,800 with 1 s).
	$(GO) test ./kernels/procint -run '^$$' -fuzz FuzzRingReplayLaw -fuzztime $(FUZZTIME) -fuzzminimizetime 1s
	$(GO) test ./kernels/behavioral -run '^$$' -fuzz FuzzRingReplayLaw -fuzztime $(FUZZTIME) -fuzzminimizetime 1s

# ---------------------------------------------------------------- CUDA
# The CUDA backend (docs/gpu.md). Building it needs cuda.h and the libcuda
# link stub, fetched into .cuda/ (ignored) by scripts/cuda-deps.sh; no GPU,
# no CUDA toolkit and no root. Only `make ptx` needs nvcc.
CUDA_DEPS ?= .cuda
# With a CUDA toolkit present (CUDA_HOME, as in the nvidia/cuda devel image)
# its headers and stub are used; otherwise cuda-deps fetches Debian's.
ifneq ($(wildcard $(CUDA_HOME)/include/cuda.h),)
CUDA_ENV := CGO_ENABLED=1 CGO_CFLAGS="-I$(CUDA_HOME)/include" CGO_LDFLAGS="-L$(CUDA_HOME)/lib64/stubs"
CUDA_DEPS_STEP :=
else
CUDA_ENV := CGO_ENABLED=1 CGO_CFLAGS="-I$(CURDIR)/$(CUDA_DEPS)/usr/include" CGO_LDFLAGS="-L$(CURDIR)/$(CUDA_DEPS)/usr/lib/x86_64-linux-gnu/stubs"
CUDA_DEPS_STEP := cuda-deps
endif
NVCC ?= nvcc
PTX_ARCH ?= compute_75

.PHONY: cuda-deps
cuda-deps: ## Fetch cuda.h and the libcuda stub into .cuda/ (Debian non-free nvidia-cuda-dev)
	scripts/cuda-deps.sh $(CUDA_DEPS)

.PHONY: build-cuda
build-cuda: $(CUDA_DEPS_STEP) ## Build bin/gokernels-cuda with the CUDA backend (-tags cuda); runs on hosts with the NVIDIA driver
	$(CUDA_ENV) $(GO) vet -tags cuda ./cuda/... ./cmd/gokernels
	$(CUDA_ENV) $(GO) build -tags cuda -trimpath -ldflags '$(LDFLAGS)' -o bin/gokernels-cuda ./cmd/gokernels

.PHONY: ptx
ptx: ## Regenerate cuda/kernels/*.ptx from the .cu sources (needs nvcc: Debian nvidia-cuda-toolkit or CUDA)
	cd cuda/kernels && for f in *.cu; do \
		echo "nvcc $$f"; $(NVCC) -ptx -arch=$(PTX_ARCH) --fmad=false -O3 -o $${f%.cu}.ptx $$f || exit 1; done

.PHONY: cuda-check-bin
cuda-check-bin: cuda-deps ## Build the CUDA test/benchmark binaries into bin/cuda-check/ (for scripts/device-check.sh)
	rm -rf bin/cuda-check && mkdir -p bin/cuda-check
	$(CUDA_ENV) $(GO) test -c -tags cuda -trimpath -ldflags '-s -w' -o bin/cuda-check/ ./cuda/...
	cp scripts/device-check.sh bin/cuda-check/

.PHONY: e2e
e2e: ## End-to-end: the real binary driven by grpcurl, grpc-health-probe and the README's commands
	$(GO) test -count=1 -v ./e2e/

.PHONY: check-openapi
check-openapi: ## Validate openapi/ with swagger-cli and redocly (npm, installed into .npm-tools/)
	bash scripts/check-openapi.sh

.PHONY: test-python
test-python: ## Run the Python client's tests against a real server (Debian python3-grpcio, -protobuf, -networkx)
	bash scripts/test-python.sh

.PHONY: e2e-node
e2e-node: ## Run the Node.js gRPC and TypeScript REST examples against a real server
	bash scripts/e2e-node.sh

# ---------------------------------------------------------------- rings
.PHONY: bench-ring
bench-ring: ## Ring throughput and latency in one run: in-process NONE and JOURNAL, gRPC Session JOURNAL (msgs/s, p50, p99)
	$(GO) test -run '^$$' -bench 'BenchmarkRing' -benchtime 3s ./server/

.PHONY: crash-ring
crash-ring: ## kill -9 the real binary mid-stream on a JOURNAL ring, restart, check acknowledged messages and retries
	$(GO) test -count=1 -v -run 'TestKillMidStream|TestKillMidOrderStream' ./ring/crashtest/

# ---------------------------------------------------------------- benchmarks
# Kernel timings against the reference libraries (igraph, scikit-learn,
# statsmodels, NumPy), interleaved in one run; each target prints its table
# and refreshes its section of docs/benchmarks.md. Not part of `make test`.
# Needs Debian's /usr/bin/python3 with python3-igraph, -numpy, -sklearn,
# -statsmodels. BENCH_REPS=N changes the number of timed rounds per case.
BENCH_PY ?= /usr/bin/python3
BENCH_BIN := bin/benchkernels

.PHONY: bench-bin
bench-bin:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BENCH_BIN) ./cmd/benchkernels

.PHONY: bench-graph
bench-graph: bench-bin ## Benchmark graph kernels against python-igraph (docs/benchmarks.md)
	$(BENCH_PY) scripts/bench/graph.py --bin $(BENCH_BIN)

.PHONY: bench-ml
bench-ml: bench-bin ## Benchmark k-means, DBSCAN and LOF against scikit-learn (docs/benchmarks.md)
	$(BENCH_PY) scripts/bench/ml.py --bin $(BENCH_BIN)

.PHONY: bench-temporal
bench-temporal: bench-bin ## Benchmark ARIMA against statsmodels (docs/benchmarks.md)
	$(BENCH_PY) scripts/bench/temporal.py --bin $(BENCH_BIN)

.PHONY: bench-risk
bench-risk: bench-bin ## Benchmark Monte Carlo VaR against NumPy (docs/benchmarks.md)
	$(BENCH_PY) scripts/bench/risk.py --bin $(BENCH_BIN)

.PHONY: bench-compliance
bench-compliance: bench-bin ## Benchmark circular-flow vs igraph SCC and sanctions-screening vs jellyfish (docs/benchmarks.md)
	$(BENCH_PY) scripts/bench/compliance.py --bin $(BENCH_BIN)

.PHONY: bench-eventlogs
bench-eventlogs: bench-bin ## Benchmark dfg-construction vs pandas, conformance vs the Python token replay, the anomaly ring fold (docs/benchmarks.md)
	$(BENCH_PY) scripts/bench/eventlogs.py --bin $(BENCH_BIN)

.PHONY: bench-markets
bench-markets: ## Benchmark the order book (msgs/s, p99) against the Python reference engine, netting against pandas, collateral-opt 200x50 against CBC
	$(BENCH_PY) scripts/bench/markets.py

.PHONY: bench-ledger
bench-ledger: ## Benchmark network-generation (1M lines) and gl-reconciliation (100k x 100k) against pandas (docs/benchmarks.md)
	$(BENCH_PY) scripts/bench/ledger.py

.PHONY: bench
bench: bench-graph bench-ml bench-temporal bench-risk ## Run every reference benchmark

.PHONY: test-cudaemu
test-cudaemu: ## Run the real-GPU tests against the device code compiled for the CPU (C++20 g++; no GPU, no CUDA)
	$(GO) test -count=1 -tags cudaemu ./cuda/gpu/

# ---------------------------------------------------------------- bench-serve
# Serving overhead (issue 10): gokernels with its production chain against a
# bare grpc-go server and a bare net/http JSON handler running the same
# kernels, driven by ghz and vegeta at concurrency 1/16/64, plus a 60 s memory
# soak; ~6 minutes, 127.0.0.1 only, every run bounded. The harness is its own
# Go module (bench/) so ghz and vegeta stay out of the app's go.mod. Prints
# the table and refreshes its section of docs/benchmarks.md. Not part of
# `make test`. Profiles: make bench-serve BENCH_SERVE_FLAGS="-profile /tmp/prof".
BENCH_SERVE_FLAGS ?= -docs docs/benchmarks.md

.PHONY: bench-serve
bench-serve: build ## Serving overhead vs bare grpc-go and net/http (ghz, vegeta; docs/benchmarks.md)
	$(GO) -C bench build -o ../bin/bench-serve .
	./bin/bench-serve -bin $(BIN) $(BENCH_SERVE_FLAGS)
