# Front door for mtool. `make test` is what CI runs (.ci/run) and what the README gives.
SHELL := /bin/bash
# A failing command in a pipeline (a fuzzer crash piped to tail) fails the recipe.
.SHELLFLAGS := -o pipefail -c
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
BENCH_BUILD ?= build-release
FUZZ_SECONDS ?= 20
BENCH_REPS ?= 3

.PHONY: all setup build test test-unit test-integration test-asan fuzz bench demo image format check-format tidy tidy-changed shellcheck clean

all: build

setup:
	bash scripts/setup.sh

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# Everything: unit tests, root-only integration tests (they skip with a reason when not
# root), the same again under ASan+UBSan, and a short fuzzing run of the packet parsers.
test: setup build
	cd $(BUILD) && ctest --output-on-failure
	$(MAKE) test-asan
	$(MAKE) fuzz

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit

test-integration: build
	cd $(BUILD) && ctest --output-on-failure -L integration

test-asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DMTOOL_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure

fuzz:
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DMTOOL_FUZZ=ON -DMTOOL_SANITIZE=ON -DMTOOL_TESTS=ON >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target parse_icmp_fuzz correlator_record_fuzz trace_input_fuzz measurement_list_fuzz report_input_fuzz
	$(FUZZ_BUILD)/tests/parse_icmp_fuzz -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/ 2>&1 | tail -n 3
	$(FUZZ_BUILD)/tests/correlator_record_fuzz -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/ 2>&1 | tail -n 3
	$(FUZZ_BUILD)/tests/trace_input_fuzz -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/ 2>&1 | tail -n 3
	# Seeded (deep nesting, NUL bytes, huge numbers); inputs up to 4 KiB pass the 64-level bound.
	mkdir -p $(FUZZ_BUILD)/corpus/measurement_list
	$(FUZZ_BUILD)/tests/measurement_list_fuzz -max_len=4096 -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/ $(FUZZ_BUILD)/corpus/measurement_list tests/fuzz/corpus/measurement_list 2>&1 | tail -n 3
	# Seeded with Atlas' and mtool's results (tests/report/data): lines, an array, bad lines.
	mkdir -p $(FUZZ_BUILD)/corpus/report_input
	$(FUZZ_BUILD)/tests/report_input_fuzz -max_len=8192 -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/ $(FUZZ_BUILD)/corpus/report_input tests/report/data 2>&1 | tail -n 3

bench: setup
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release -DMTOOL_TESTS=OFF >/dev/null
	cmake --build $(BENCH_BUILD) -j $(JOBS) --target mtool
	bash bench/ping_vs_iputils.sh $(BENCH_BUILD)/tools/mtool
	bash bench/correlator_cost.sh $(BENCH_BUILD)/tools/mtool $(BENCH_REPS)
	bash bench/traceroute_vs_debian.sh $(BENCH_BUILD)/tools/mtool $(BENCH_REPS)
	bash bench/paris_vs_classic.sh $(BENCH_BUILD)/tools/mtool $(BENCH_REPS)
	bash bench/mda_vs_tracelb.sh $(BENCH_BUILD)/tools/mtool $(BENCH_REPS)
	bash bench/campaign_throughput.sh $(BENCH_BUILD)/tools/mtool
	bash bench/report_throughput.sh $(BENCH_BUILD)/tools/mtool $(BENCH_REPS)
	$(MAKE) build
	bash bench/listener_churn.sh $(BUILD) 300
	bash bench/remote_target.sh $(BUILD) $(BENCH_REPS)
	bash bench/image.sh
	bash bench/docker_first_reply.sh 20
	bash bench/accuracy_matrix.sh $(BENCH_BUILD)/tools/mtool --reps $(BENCH_REPS)

# The image (tools + correlator), tagged mtool:<version> and mtool:latest. Starts dockerd and
# makes the debian:bookworm-slim base locally when needed (scripts/docker-env.sh).
IMAGE_VERSION := $(shell grep -m1 -o 'mtool VERSION [0-9.]*' CMakeLists.txt | cut -d' ' -f3)
image:
	bash scripts/docker-env.sh
	docker build --network host -f images/Dockerfile -t mtool:$(IMAGE_VERSION) -t mtool:latest .
	docker image prune -f --filter label=mtool.stage=build >/dev/null

demo: setup build
	bash scripts/demo.sh $(BUILD)/tools/mtool

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h' | grep -v '^bpf/')

check-format:
	bash scripts/check_format.sh

shellcheck:
	bash scripts/check_shell.sh

# All of lib/ and tools/ (as CI's ctest clang_tidy), or only what differs from the merge base.
tidy: build
	bash scripts/check_tidy.sh $(BUILD)

tidy-changed: build
	bash scripts/check_tidy.sh $(BUILD) --changed

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(BENCH_BUILD)
