# dltrain build, test and demo targets. `make help` lists them.
GO      ?= go
BIN     ?= bin/dltrain
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: help build test test-short lint fuzz-smoke demo clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

build: ## build bin/dltrain (pure Go)
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/dltrain

test: lint ## the test suite CI runs: lint, every test, then a short fuzz of the file readers
	$(GO) test -count=1 ./...
	$(MAKE) --no-print-directory fuzz-smoke

test-short: ## the fast tests only
	$(GO) test -short -count=1 ./...

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

FUZZTIME ?= 3s
fuzz-smoke: ## fuzz each reader of user files (CSV, IDX, npy) for FUZZTIME (3s)
	@for f in FuzzReadCSV FuzzReadIDX FuzzReadNpy; do \
		$(GO) test ./pkg/data -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) >/dev/null || { echo "$$f failed:"; $(GO) test ./pkg/data -run "^$$f$$" 2>&1 | tail -20; exit 1; }; \
		echo "$$f: ok ($(FUZZTIME))"; \
	done

demo: build ## train the demo: an MLP on the built-in digits
	$(BIN) train --config configs/digits-mlp.yaml

clean: ## remove build outputs
	rm -rf bin
