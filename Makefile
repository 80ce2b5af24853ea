# Entente: `make demo` runs the three-company story, `make test` runs the whole test suite.
SWIFT ?= swift

.PHONY: deps build release demo test clean

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

clean:
	rm -rf .build
