# revokerd — see README.md.  Quick start: `make run`, `make test`.

BUILD	?= build
CC	?= cc
PKGS	 = libevent libevent_pthreads rdkafka lmdb jansson libcrypto
WARN	 = -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wwrite-strings \
	   -Wformat=2 -Werror
CFLAGS	?= -O2 -g
override CFLAGS += $(WARN) -fstack-protector-strong -D_FORTIFY_SOURCE=2 \
	   -D_GNU_SOURCE -pthread -I. $(SANFLAGS)
override LDFLAGS += -pthread $(SANFLAGS)
PKGCFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKGLIBS	 = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcrypt
CRITLIBS = $(shell pkg-config --libs criterion 2>/dev/null || echo -lcriterion)

# The libraries, one per top-level folder (dependencies run one way:
# daemon -> consumers -> store), and each program's own sources, as
# OpenSMTPD's smtpctl lists the smtpd sources it reuses.
STORE_SRC	= $(wildcard store/*/*.c)
CONS_SRC	= $(wildcard consumers/*/*.c)
REVOKERD_SRC	= $(wildcard daemon/revokerd/*.c daemon/http/*.c \
		    daemon/metrics/*.c)
REVOKERCTL_SRC	= $(wildcard daemon/revokerctl/*.c) daemon/revokerd/config.c
# Everything of the daemon folder but the two mains, for the unit tests.
DAEMON_SRC	= $(filter-out daemon/revokerd/main.c \
		    daemon/revokerctl/revokerctl.c, \
		    $(sort $(REVOKERD_SRC) $(REVOKERCTL_SRC)))
UNIT_SRC	= $(wildcard tests/unit/*_test.c)
FUZZ_SRC	= $(wildcard tests/fuzz/*_fuzz.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
LIBS_A	= $(BUILD)/libdaemon.a $(BUILD)/libconsumers.a $(BUILD)/libstore.a
UNIT_BIN = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.PHONY: all run test unit unit-bins scenario bench asan asan-unit fuzz lint \
	clean deps deps-test soak

all: $(BUILD)/revokerd $(BUILD)/revokerctl

deps:
	@scripts/deps.sh build
deps-test:
	@scripts/deps.sh test

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKGCFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libstore.a: $(call obj,$(STORE_SRC))
	$(AR) rcs $@ $^
$(BUILD)/libconsumers.a: $(call obj,$(CONS_SRC))
	$(AR) rcs $@ $^
$(BUILD)/libdaemon.a: $(call obj,$(DAEMON_SRC)) $(BUILD)/.keep
	$(AR) rcs $@ $(filter %.o,$^)
$(BUILD)/.keep:
	@mkdir -p $(BUILD) && touch $@

LIBS_CS	= $(BUILD)/libconsumers.a $(BUILD)/libstore.a
$(BUILD)/revokerd: $(call obj,$(REVOKERD_SRC)) $(LIBS_CS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKGLIBS)
$(BUILD)/revokerctl: $(call obj,$(REVOKERCTL_SRC)) $(LIBS_CS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKGLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/tests/unit/fixture.o $(LIBS_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKGLIBS) $(CRITLIBS)

# make run: packages, build, then revokerd on its embedded broker.
run:
	@scripts/deps.sh build
	@$(MAKE) --no-print-directory all
	@scripts/run-dev.sh $(BUILD)

# make test: packages, build, lint (scripts/lint.py), unit tests (plain, then under ASan+UBSan),
# each fuzz target for a bounded time (FUZZ_SECONDS, 15), then the
# scenarios against a real Kafka broker.
test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory all unit-bins
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory asan-unit
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-15} scripts/fuzz.sh
	@$(MAKE) --no-print-directory scenario

unit-bins: $(UNIT_BIN)

unit: $(UNIT_BIN)
	@scripts/run-unit.sh $(UNIT_BIN)

scenario: all
	@tests/scenario/run.sh $(BUILD)

# make soak: the crash soak (f0013) with 100 SIGKILLs and a larger log
# (make test runs it with 20); about 10 minutes on two cores.
soak:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory all
	@SOAK_KILLS=100 SOAK_EVENTS=100000 SOAK_TREE=50000 \
	    SCENARIO_TIMEOUT=1800 tests/scenario/run.sh $(BUILD) f0013

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory all $(BUILD)/store-bench \
	    $(BUILD)/expiry-bench $(BUILD)/consume-bench \
	    $(BUILD)/produce-bench
	@scripts/bench.sh $(BUILD)

$(BUILD)/store-bench: $(BUILD)/scripts/store_bench.o $(LIBS_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKGLIBS)
$(BUILD)/expiry-bench: $(BUILD)/scripts/expiry_bench.o $(BUILD)/libstore.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PKGLIBS)
# The bare librdkafka baselines of the ingest and publish benches.
$(BUILD)/consume-bench: $(BUILD)/scripts/consume_bench.o
	$(CC) $(LDFLAGS) -o $@ $^ $(PKGLIBS)
$(BUILD)/produce-bench: $(BUILD)/scripts/produce_bench.o
	$(CC) $(LDFLAGS) -o $@ $^ $(PKGLIBS)

# The whole suite under AddressSanitizer and UndefinedBehaviorSanitizer.
ASAN_MAKE = $(MAKE) --no-print-directory BUILD=build-asan CFLAGS="-O1 -g" \
	    SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer \
	    -fno-sanitize-recover=undefined"
export ASAN_OPTIONS ?= detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1

asan-unit:
	@$(ASAN_MAKE) all unit-bins
	@$(ASAN_MAKE) unit

asan:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory asan-unit
	@$(ASAN_MAKE) scenario

fuzz:
	@scripts/fuzz.sh

lint:
	@scripts/lint.sh

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
