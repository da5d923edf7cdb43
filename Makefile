# dltrain build, test and demo targets. `make help` lists them.
GO      ?= go
BIN     ?= bin/dltrain
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

OPENBLAS_BIN  ?= bin/dltrain-openblas
# The packages whose arithmetic the BLAS changes: tested again with OpenBLAS.
BENCH_THREADS ?= 1,2
BENCH_SECONDS ?= 5

.PHONY: help build install build-openblas test test-openblas test-short lint fuzz-smoke demo bench bench-gan clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

build: ## build bin/dltrain (pure Go)
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/dltrain

install: ## install dltrain on your PATH: into $(go env GOBIN), else $(go env GOPATH)/bin
	$(GO) install -trimpath -ldflags "$(LDFLAGS)" ./cmd/dltrain

build-openblas: ## build bin/dltrain-openblas (cgo + OpenBLAS: apt-get install libopenblas-dev)
	CGO_ENABLED=1 $(GO) build -tags openblas -trimpath -ldflags "$(LDFLAGS)" -o $(OPENBLAS_BIN) ./cmd/dltrain

test: lint ## the test suite CI runs: lint, every test, then a short fuzz of the file readers
	$(GO) test -count=1 ./...
	scripts/fuzz-smoke_test.sh
	$(MAKE) --no-print-directory fuzz-smoke

test-openblas: ## every test again on the OpenBLAS build (the end-to-end tests build and run the OpenBLAS binary)
	CGO_ENABLED=1 $(GO) vet -tags openblas ./...
	CGO_ENABLED=1 $(GO) test -tags openblas -count=1 ./...

test-short: ## the fast tests only
	$(GO) test -short -count=1 ./...

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

FUZZTIME ?= 20000x
fuzz-smoke: ## fuzz each reader of user files (CSV, IDX, npy) and the time split for FUZZTIME (20000x: 20,000 inputs each, about 3 s)
	@GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz-smoke.sh

demo: build ## train the demo: an MLP on the built-in digits
	$(BIN) train --config configs/digits-mlp.yaml

bench: build ## dltrain bench (both builds) then PyTorch, at 1 and 2 threads: the ratio table
	@builds="pure-go=$(BIN)"; \
	if $(MAKE) -s build-openblas >/dev/null 2>&1; then builds="$$builds openblas=$(OPENBLAS_BIN)"; \
	else echo "note: OpenBLAS build skipped (needs cgo and libopenblas-dev)"; fi; \
	python3 bench/compare.py --threads $(BENCH_THREADS) --seconds $(BENCH_SECONDS) $$builds

bench-gan: build ## GAN acceptance (issue 14): 8,000 MNIST digits, the judge LeNet, the PyTorch GAN and its judge score (bench/gan/README.md)
	bench/gan/bench.sh

clean: ## remove build outputs
	rm -rf bin
