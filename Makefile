# Entente: `make demo` runs the three-company story, `make test` runs the whole test suite.
SWIFT ?= swift

.PHONY: deps build release demo test simulate bench lint format clean fuzz

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

# Fuzzing with libFuzzer (+ AddressSanitizer) in .build-fuzz: make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="envelope bundle"]
# [FUZZ_MERGE=1: merge new coverage into Fuzz/corpus]. Targets, corpus and crashers: Fuzz/README.md. SwiftPM's
# --sanitize fuzzer links libFuzzer's main; -Xswiftc -sanitize=fuzzer adds the coverage instrumentation.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= envelope bundle operations partner-card summary handshake sync-session csv-import csv-mapping
FUZZ_MERGE ?= 0
FUZZ_BUILD = ENTENTE_FUZZ=1 $(SWIFT) build -c release --scratch-path .build-fuzz --sanitize fuzzer --sanitize address -Xswiftc -sanitize=fuzzer,address
fuzz: deps
	@for target in $(FUZZ_TARGETS); do $(FUZZ_BUILD) --product fuzz-$$target || exit 1; done
	@bash Fuzz/run.sh "$$($(FUZZ_BUILD) --show-bin-path)" $(FUZZ_SECONDS) $(FUZZ_MERGE) $(FUZZ_TARGETS)

# swift format with the project's configuration (.swift-format, from the shared style guide)
lint:
	swift format lint -r Sources Tests Package.swift

format:
	swift format format -i -r Sources Tests Package.swift

clean:
	rm -rf .build
