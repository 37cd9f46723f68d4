# faultline — build, test, fuzz, bench.
#
#   make            build/faultline (optimised, warnings are errors)
#   make deps       install the Debian packages (root; fast when present)
#   make test       deps if missing, then every test under ASan + UBSan,
#                   a short fuzz of each parser, and the CLI tests
#   make fuzz       longer libFuzzer runs (FUZZ_SECONDS each, default 300)
#   make bench      benchmarks (optimised build); prints figures and ratios
#   make run        deps, build, then the default test (`faultline test`;
#                   RUN_ARGS="..." adds options)
#
# Objects never mix: build/obj (release), build/asan (sanitized tests),
# build/fuzz (clang + libFuzzer), build/bench.

CC      ?= gcc
BUILD   ?= build
SHARED  ?= $(abspath ../shared)
FUZZ_SECONDS ?= 300
FUZZ_QUICK_SECONDS ?= 5

PKG_LIBS   := jansson libxxhash libssh2 libcurl libmicrohttpd
# build/faultline checks and converts: it links no libssh2/libcurl, whose
# start-up (35 shared libraries, 6 ms) every `faultline check` would pay.
CHECK_PKG_LIBS := jansson libxxhash
WARN       := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BASE_FLAGS := -std=c11 -D_GNU_SOURCE -I. -MMD -MP $(WARN)
CFLAGS     ?= -O2 -g
# ZooKeeper's C client, linked statically and with connect() wrapped so
# that its sockets are bound to the test network (targets/clients/zookeeper.h).
ZK_LDLIBS  := /usr/lib/x86_64-linux-gnu/libzookeeper_mt.a -Wl,--wrap=connect
LDLIBS     := $(shell pkg-config --libs $(PKG_LIBS) 2>/dev/null || echo -ljansson -lxxhash -lssh2 -lcurl -lmicrohttpd) $(ZK_LDLIBS) -lpthread -lm
CHECK_LDLIBS := $(shell pkg-config --libs $(CHECK_PKG_LIBS) 2>/dev/null || echo -ljansson -lxxhash) -lpthread -lm
SAN_FLAGS  := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

# The layers (ARCHITECTURE.md): base (errors, clock, rng, allocation) ->
# history -> checkers, workloads -> harness (the controller's transport)
# and the targets' clients -> nemesis (fault kinds) -> run (orchestration)
# -> cli. libfl_base.a is all that raftkv links.
BASE_SRCS := $(wildcard base/*.c)
LIB_SRCS  := $(wildcard history/*.c report/*.c serve/*.c harness/*.c nemesis/*.c run/*.c checkers/*.c workloads/*.c targets/clients/*.c targets/*.c)
# The packet fault's shaper: a program of its own, uploaded to the nodes
# (nemesis/netem/main.c); its pure core is in the library for the tests.
NETEM_SRCS := nemesis/netem/shape.c
LIB_SRCS  += $(NETEM_SRCS)
# The file-corruption faults' program on the nodes (nemesis/corrupt/main.c),
# the same way: its core in the library for the tests.
CORRUPT_SRCS := nemesis/corrupt/corrupt.c
LIB_SRCS  += $(CORRUPT_SRCS)
# The election-kill fault's agent, the same way (nemesis/election/main.c).
ELECTION_SRCS := nemesis/election/watch.c
LIB_SRCS  += $(ELECTION_SRCS)
CLI_SRCS  := $(wildcard cli/*.c)
# Two binaries, as git splits its commands: faultline (check, history,
# analyze, report) and faultline-harness (every command, the controller's
# and the HTTP server's too), which faultline's `test`, `cluster` and
# `serve` exec (cli/harness_exec.c). One cli/main.c dispatches for both:
# built with -DFL_CONTROLLER (main_controller.o) it calls the controller's
# commands, without it it execs them.
CLI_HARNESS_SRCS := cli/cmd_test.c cli/cmd_cluster.c cli/cmd_serve.c
CLI_COMMON_SRCS  := $(filter-out $(CLI_HARNESS_SRCS) cli/harness_exec.c cli/main.c,$(CLI_SRCS))
# raftkv: its own library (consensus core, storage, server) and entry point.
# The simulation fixture is for tests and benches only, never the server.
RAFT_FIXTURE_SRCS := tests/fixtures/raft_fixture.c
RAFT_SRCS := $(filter-out targets/raftkv/main.c,$(wildcard targets/raftkv/*.c))
RAFT_LDLIBS := $(shell pkg-config --libs libmicrohttpd libcurl 2>/dev/null || echo -lmicrohttpd -lcurl) -lz
# The server itself: HTTP, JSON bodies, crc32; nothing of the harness.
RAFT_BIN_LIBS := $(shell pkg-config --libs libmicrohttpd jansson 2>/dev/null || echo -lmicrohttpd -ljansson) -lz -lpthread
# powerfs: the FUSE file system that loses un-fsynced writes (power-loss
# fault); its own binary, linking libfuse3 and nothing of faultline's.
POWERFS_SRCS := $(wildcard powerfs/*.c)
FUSE_CFLAGS  := $(shell pkg-config --cflags fuse3 2>/dev/null || echo -I/usr/include/fuse3)
FUSE_LDLIBS  := $(shell pkg-config --libs fuse3 2>/dev/null || echo -lfuse3 -lpthread)
TEST_SRCS := $(wildcard tests/test_*.c)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
BENCH_SRCS := $(wildcard bench/bench_*.c)

BASE_OBJS      := $(BASE_SRCS:%.c=$(BUILD)/obj/%.o)
ASAN_BASE_OBJS := $(BASE_SRCS:%.c=$(BUILD)/asan/%.o)
LIB_OBJS      := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
ASAN_LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/asan/%.o)
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/fuzz/%.o) $(BASE_SRCS:%.c=$(BUILD)/fuzz/%.o)
CLI_OBJS      := $(CLI_COMMON_SRCS:%.c=$(BUILD)/obj/%.o) $(CLI_HARNESS_SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/cli/main_controller.o
ASAN_CLI_OBJS := $(CLI_COMMON_SRCS:%.c=$(BUILD)/asan/%.o) $(CLI_HARNESS_SRCS:%.c=$(BUILD)/asan/%.o) $(BUILD)/asan/cli/main_controller.o
CHECK_CLI_OBJS      := $(CLI_COMMON_SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/cli/harness_exec.o $(BUILD)/obj/cli/main.o
ASAN_CHECK_CLI_OBJS := $(CLI_COMMON_SRCS:%.c=$(BUILD)/asan/%.o) $(BUILD)/asan/cli/harness_exec.o $(BUILD)/asan/cli/main.o
RAFT_OBJS      := $(RAFT_SRCS:%.c=$(BUILD)/obj/%.o)
ASAN_RAFT_OBJS := $(RAFT_SRCS:%.c=$(BUILD)/asan/%.o)
POWERFS_OBJS      := $(POWERFS_SRCS:%.c=$(BUILD)/obj/%.o)
ASAN_POWERFS_OBJS := $(POWERFS_SRCS:%.c=$(BUILD)/asan/%.o)
RAFT_FIXTURE_OBJS      := $(RAFT_FIXTURE_SRCS:%.c=$(BUILD)/obj/%.o)
ASAN_RAFT_FIXTURE_OBJS := $(RAFT_FIXTURE_SRCS:%.c=$(BUILD)/asan/%.o)
BENCH_LIB_OBJS := $(LIB_OBJS)

TESTS   := $(TEST_SRCS:tests/%.c=$(BUILD)/asan/tests/%)
FUZZERS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
BENCHES := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

# Test objects are kept: otherwise make deletes them as intermediates after
# the suite, and its `rm` would be the last line instead of the totals.
.SECONDARY:

.PHONY: all deps test unit-tests fuzz fuzz-quick bench run clean check-deps
.DEFAULT_GOAL := all

all: $(BUILD)/faultline $(BUILD)/faultline-harness $(BUILD)/faultline-bind.so $(BUILD)/faultline-netem $(BUILD)/faultline-corrupt $(BUILD)/faultline-election $(BUILD)/faultline-powerfs $(if $(wildcard targets/raftkv/main.c),$(BUILD)/raftkv)

deps:
	@scripts/deps.sh

check-deps:
	@scripts/deps.sh --check 2>/dev/null || scripts/deps.sh

# ---- release build -------------------------------------------------------
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_FLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/cli/main_controller.o: cli/main.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_FLAGS) $(CFLAGS) -DFL_CONTROLLER -c $< -o $@

$(BUILD)/libfl_base.a: $(BASE_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libfaultline.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/faultline: $(CHECK_CLI_OBJS) $(BUILD)/libfaultline.a $(BUILD)/libfl_base.a
	$(CC) $(CFLAGS) -o $@ $^ $(CHECK_LDLIBS)

$(BUILD)/faultline-harness: $(CLI_OBJS) $(BUILD)/libfaultline.a $(BUILD)/libfl_base.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# Preloaded into a target file's client processes (preload/bind_connect.c):
# links nothing of faultline, never part of a library.
$(BUILD)/faultline-bind.so: preload/bind_connect.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_FLAGS) $(CFLAGS) -fPIC -shared -o $@ $< -ldl

# Static: it runs on the nodes, whatever their libc.
$(BUILD)/faultline-netem: $(BUILD)/obj/nemesis/netem/main.o $(NETEM_SRCS:%.c=$(BUILD)/obj/%.o)
	$(CC) $(CFLAGS) -static -o $@ $^

$(BUILD)/faultline-corrupt: $(BUILD)/obj/nemesis/corrupt/main.o $(CORRUPT_SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/base/fl_error.o
	$(CC) $(CFLAGS) -static -o $@ $^

# Static too, for the same reason.
$(BUILD)/faultline-election: $(BUILD)/obj/nemesis/election/main.o $(ELECTION_SRCS:%.c=$(BUILD)/obj/%.o)
	$(CC) $(CFLAGS) -static -o $@ $^

$(BUILD)/libraftkv.a: $(RAFT_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/raftkv: $(BUILD)/obj/targets/raftkv/main.o $(BUILD)/libraftkv.a $(BUILD)/libfl_base.a
	$(CC) $(CFLAGS) -o $@ $^ $(RAFT_BIN_LIBS)

$(POWERFS_OBJS) $(ASAN_POWERFS_OBJS): BASE_FLAGS += $(FUSE_CFLAGS)

$(BUILD)/faultline-powerfs: $(POWERFS_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(FUSE_LDLIBS)

$(BUILD)/asan/faultline-powerfs: $(ASAN_POWERFS_OBJS)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(FUSE_LDLIBS)

# report.html's style and script are .incbin'd by report/html_assets.c,
# where -MMD cannot see them.
REPORT_ASSETS := report/report.css report/report.js
$(BUILD)/obj/report/html_assets.o $(BUILD)/asan/report/html_assets.o $(BUILD)/fuzz/report/html_assets.o: $(REPORT_ASSETS)

# ---- sanitized build for tests ---------------------------------------------
$(BUILD)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_FLAGS) $(SAN_FLAGS) -c $< -o $@

$(BUILD)/asan/cli/main_controller.o: cli/main.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_FLAGS) $(SAN_FLAGS) -DFL_CONTROLLER -c $< -o $@

$(BUILD)/asan/libfl_base.a: $(ASAN_BASE_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/asan/libfaultline.a: $(ASAN_LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/asan/faultline: $(ASAN_CHECK_CLI_OBJS) $(BUILD)/asan/libfaultline.a $(BUILD)/asan/libfl_base.a
	$(CC) $(SAN_FLAGS) -o $@ $^ $(CHECK_LDLIBS)

$(BUILD)/asan/faultline-harness: $(ASAN_CLI_OBJS) $(BUILD)/asan/libfaultline.a $(BUILD)/asan/libfl_base.a
	$(CC) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/asan/libraftkv.a: $(ASAN_RAFT_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/asan/raftkv: $(BUILD)/asan/targets/raftkv/main.o $(BUILD)/asan/libraftkv.a $(BUILD)/asan/libfl_base.a
	$(CC) $(SAN_FLAGS) -o $@ $^ $(RAFT_BIN_LIBS)

# Every test links both libraries; the linker takes only what it uses.
$(BUILD)/asan/tests/%: $(BUILD)/asan/tests/%.o $(ASAN_RAFT_FIXTURE_OBJS) $(BUILD)/asan/libraftkv.a $(BUILD)/asan/libfaultline.a $(BUILD)/asan/libfl_base.a
	$(CC) $(SAN_FLAGS) -o $@ $^ -lcmocka $(RAFT_LDLIBS) $(LDLIBS)

# ---- fuzzers (clang + libFuzzer) ---------------------------------------------
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -I. -MMD -MP -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all

$(BUILD)/fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) -c $< -o $@

$(BUILD)/fuzz/fuzz_%: $(BUILD)/fuzz/tests/fuzz/fuzz_%.o $(FUZZ_LIB_OBJS)
	clang -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)

# ---- benchmarks (release flags) ------------------------------------------------
$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(RAFT_FIXTURE_OBJS) $(BUILD)/libraftkv.a $(BUILD)/libfaultline.a $(BUILD)/libfl_base.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(RAFT_LDLIBS) $(LDLIBS)

# ---- entry points -------------------------------------------------------------
unit-tests: $(TESTS) $(BUILD)/asan/faultline $(BUILD)/asan/faultline-harness $(BUILD)/asan/faultline-powerfs all $(if $(wildcard targets/raftkv/main.c),$(BUILD)/asan/raftkv)
	@scripts/run-tests.sh $(TESTS)

fuzz-quick: $(FUZZERS)
	@scripts/run-fuzz.sh $(FUZZ_QUICK_SECONDS) $(FUZZERS)

fuzz: $(FUZZERS)
	@scripts/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZERS)

# Fuzzers first, so the last line printed is the suite's "N passed, N failed".
test: check-deps
	@$(MAKE) --no-print-directory fuzz-quick
	@$(MAKE) --no-print-directory unit-tests

bench: $(BENCHES) $(BUILD)/faultline $(BUILD)/faultline-bind.so $(BUILD)/faultline-netem $(BUILD)/faultline-election $(if $(wildcard targets/raftkv/main.c),$(BUILD)/raftkv)
	@scripts/run-bench.sh $(BENCHES)

# Everything the default test runs: faultline and the raftkv it installs.
# RUN_ARGS passes options through (CI: RUN_ARGS="--time-limit 10").
run: check-deps all
	$(BUILD)/faultline test $(RUN_ARGS)

clean:
	rm -rf $(BUILD)

export SHARED BUILD

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
