# avtrace — the two commands a newcomer needs are `make run` and `make test`.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
DATA_DIR ?= ./data
FUZZ_SECONDS ?= 10

.PHONY: all bootstrap configure build run test unit integration fuzz fuzz-smoke bench clean

all: build

bootstrap:
	@scripts/bootstrap

configure:
	@[ -f $(BUILD_DIR)/build.ninja ] || cmake --preset release >/dev/null

build: bootstrap configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# Starts the server on the embedded SQLite store in $(DATA_DIR).
run: build
	@mkdir -p $(DATA_DIR)
	$(BUILD_DIR)/avtrace serve --data-dir $(DATA_DIR)

# Every test: unit, integration (real server, real OTel JS SDK, real prometheus), fuzz smoke.
test: build
	@cd $(BUILD_DIR) && ctest -j2 --output-on-failure --timeout 600
	@$(MAKE) --no-print-directory fuzz-smoke

unit: build
	@cd $(BUILD_DIR) && ctest -j2 -L unit --output-on-failure

integration: build
	@cd $(BUILD_DIR) && ctest -j2 -L integration --output-on-failure

# libFuzzer targets (clang). fuzz-smoke: a short run of each, part of `make test`.
fuzz-build: bootstrap
	@[ -f build-fuzz/build.ninja ] || cmake --preset fuzz >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target fuzzers

fuzz-smoke: fuzz-build
	@scripts/run-fuzzers $(FUZZ_SECONDS)

fuzz: fuzz-build
	@scripts/run-fuzzers $${FUZZ_SECONDS:-600}

bench: build
	@bench/run-all

clean:
	rm -rf $(BUILD_DIR) build-fuzz
