# Entente: `make demo` runs the three-company story, `make test` runs the whole test suite.
SWIFT ?= swift

.PHONY: deps build release demo test simulate bench lint format clean

deps:
	@bash scripts/deps.sh

build: deps
	$(SWIFT) build --explicit-target-dependency-import-check error

release: deps
	$(SWIFT) build -c release

demo: build
	@bash Examples/demo.sh "$$($(SWIFT) build --show-bin-path)/entente"

test: deps
	$(SWIFT) build --build-tests --explicit-target-dependency-import-check error -Xswiftc -warnings-as-errors
	$(SWIFT) test --skip-build --explicit-target-dependency-import-check error -Xswiftc -warnings-as-errors

# The deterministic simulations with more seeds: make simulate SEEDS=5000 NODE_SEEDS=200 [FIRST=1]
# (core: pure merge over a hostile network; node: real stores, envelopes, restarts and privacy scans)
SEEDS ?= 1000
NODE_SEEDS ?= 50
FIRST ?= 1
simulate: deps
	$(SWIFT) build --build-tests
	ENTENTE_SEEDS=$(SEEDS) ENTENTE_FIRST_SEED=$(FIRST) ENTENTE_NODE_SEEDS=$(NODE_SEEDS) \
		$(SWIFT) test --skip-build --filter 'SimulationTests|NodeSimulationTests'

# The benchmark (release build): make bench RECORDS=100000
RECORDS ?= 100000
bench: deps
	$(SWIFT) run -c release entente-bench --records $(RECORDS)

# swift format with the project's configuration (.swift-format, from the shared style guide)
lint:
	swift format lint -r Sources Tests Package.swift

format:
	swift format format -i -r Sources Tests Package.swift

clean:
	rm -rf .build
