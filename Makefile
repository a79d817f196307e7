# The two commands a new user needs: `make demo` and `make test`. Each installs what it needs.
# `make bench` runs the benchmarks side by side with BullMQ on a Release build (bench/README.md).
BUILD_DIR ?= build
BENCH_BUILD_DIR ?= build-release
BENCH_ARGS ?=
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_TARGETS ?= http job_request config task_file template model_json batch_line multipart

.PHONY: deps bench-deps build build-release demo test test-unit bench bench-quick fuzz format tidy clean

deps:
	@bash scripts/install-deps.sh

$(BUILD_DIR)/build.ninja: CMakeLists.txt | deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	python3 demo/run_demo.py --sluice $(BUILD_DIR)/sluice

test: build bench-deps
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

test-unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L unit

bench-deps:
	@bash scripts/install-bench-deps.sh

# Release (-O3, with debug info for perf) in a build dir of its own.
$(BENCH_BUILD_DIR)/build.ninja: CMakeLists.txt | deps
	cmake -S . -B $(BENCH_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-g

build-release: deps $(BENCH_BUILD_DIR)/build.ninja
	cmake --build $(BENCH_BUILD_DIR) -j $(JOBS) --target sluice sluice_store_depth sluice_loadgen

# Every scenario, 3 runs each, ~20 minutes; figures to bench/results/<date>.json.
bench: build-release bench-deps
	python3 bench/run.py --bin $(BENCH_BUILD_DIR)/sluice $(BENCH_ARGS)

# The one-minute smoke version (tiny sizes, 1 run), on the ordinary build; also ctest bench.quick.
bench-quick: build bench-deps
	python3 bench/run.py --quick --check --bin $(BUILD_DIR)/sluice $(BENCH_ARGS)

# libFuzzer targets (fuzz/README.md) in a clang build of their own (SLUICE_FUZZ: ASan+UBSan and
# coverage on our code); each runs FUZZ_SECONDS on a scratch copy of its seeds, two at a time.
# Fails when a target finds a crash, leak or timeout, and prints the reproducer.
$(FUZZ_BUILD_DIR)/build.ninja: CMakeLists.txt fuzz/CMakeLists.txt | deps
	CXX=clang++ cmake -S . -B $(FUZZ_BUILD_DIR) -G Ninja -DSLUICE_FUZZ=ON \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g"

fuzz: deps $(FUZZ_BUILD_DIR)/build.ninja
	cmake --build $(FUZZ_BUILD_DIR) -j $(JOBS) --target sluice_fuzz_all
	bash fuzz/run.sh $(FUZZ_BUILD_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

format:
	find src -name '*.h' -o -name '*.cc' | xargs clang-format -i

tidy: build
	find src -name '*.cc' ! -name '*_test.cc' | xargs clang-tidy -p $(BUILD_DIR) --quiet

clean:
	rm -rf $(BUILD_DIR)
