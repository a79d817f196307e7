# The two commands a new user needs: `make demo` and `make test`. Each installs what it needs.
# `make bench` runs the benchmarks side by side with BullMQ on a Release build (bench/README.md).
BUILD_DIR ?= build
BENCH_BUILD_DIR ?= build-release
BENCH_ARGS ?=
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_TARGETS ?= http job_request config task_file template model_json batch_line multipart pii_mask audit_line

.PHONY: deps bench-deps build build-release demo test test-unit bench bench-quick fuzz format tidy clean
.PHONY: test-asan test-tsan ci

# ccache keys relative to the checkout, build dirs not hashed: a second clone of the repository
# (CI's) reuses what the first compiled. (Debug info of a reused object names the first's dirs.)
export CCACHE_BASEDIR ?= $(CURDIR)
export CCACHE_NOHASHDIR ?= 1

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

# What CI runs (.ci/run): every test, then the sanitizer runs and each fuzz target for 60 s.
ci: test test-asan test-tsan fuzz

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

# Sanitizer runs (tests/sanitizers/README.md), each in a build dir of its own, -O1: ASan+UBSan
# over the unit tests and a few integration tests that drive the real server; TSan over the unit
# tests. Any report fails the run.
ASAN_BUILD_DIR ?= build-asan
TSAN_BUILD_DIR ?= build-tsan
SAN_CMAKE_FLAGS = -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG"
# *.thread_safety only parse with clang (no sanitizer involved; `make test` runs them).
SAN_EXCLUDE = \.thread_safety$$
ASAN_INTEGRATION = test_api_jobs|test_api_validation|test_auth|test_crash|test_events_stream|test_harness|test_outbound_limits|test_server_limits
SAN_ENV = ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0:strict_string_checks=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizers/lsan.supp:print_suppressions=0 \
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:report_signal_unsafe=0:suppressions=$(CURDIR)/tests/sanitizers/tsan.supp

$(ASAN_BUILD_DIR)/build.ninja: CMakeLists.txt | deps
	cmake -S . -B $(ASAN_BUILD_DIR) $(SAN_CMAKE_FLAGS) -DSLUICE_SANITIZE=ON

test-asan: deps $(ASAN_BUILD_DIR)/build.ninja
	cmake --build $(ASAN_BUILD_DIR) -j $(JOBS) --target sluice sluice_unit_tests
	cd $(ASAN_BUILD_DIR) && $(SAN_ENV) ctest --output-on-failure -j $(JOBS) -L unit -E '$(SAN_EXCLUDE)'
	cd $(ASAN_BUILD_DIR) && $(SAN_ENV) ctest --output-on-failure -j $(JOBS) \
	  -R '^integration\.($(ASAN_INTEGRATION))$$'

$(TSAN_BUILD_DIR)/build.ninja: CMakeLists.txt | deps
	cmake -S . -B $(TSAN_BUILD_DIR) $(SAN_CMAKE_FLAGS) -DSLUICE_TSAN=ON

test-tsan: deps $(TSAN_BUILD_DIR)/build.ninja
	cmake --build $(TSAN_BUILD_DIR) -j $(JOBS) --target sluice_unit_tests
	cd $(TSAN_BUILD_DIR) && $(SAN_ENV) ctest --output-on-failure -j $(JOBS) -L unit -E '$(SAN_EXCLUDE)'

format:
	find src -name '*.h' -o -name '*.cc' | xargs clang-format -i

tidy: build
	find src -name '*.cc' ! -name '*_test.cc' | xargs clang-tidy -p $(BUILD_DIR) --quiet

clean:
	rm -rf $(BUILD_DIR)
