# vitals - build, run, test and benchmark vitalsd.
#
#   make            build build/release/vitalsd
#   make run        build and start vitalsd with its defaults
#   make check      unit tests (Check) and integration tests (real binary)
#   make check SANITIZE=1   the same under AddressSanitizer + UBSan
#   make bench      load, healthcheck and storage benchmarks (prints figures)
#   make soak       SOAK_SECONDS=600: mixed traffic under faults, checks RSS, fds, counts
#   make flood      1,000,000 new names: peak RSS against its bound
#   make fuzz       libFuzzer targets (clang), FUZZ_SECONDS each (default 60)
#   make demo       vitalsd plus a simulated fleet: open http://127.0.0.1:8080/?wall=1
#   make install    PREFIX=/usr/local DESTDIR=
#
# Missing Debian packages are installed by contrib/ensure-deps.sh (as root;
# otherwise it prints the apt-get line to run and stops).

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
VERSION := 0.1.0

PKGS    := libmicrohttpd librabbitmq librrd libcjson libcurl

WARN    := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
           -Wpointer-arith -Wcast-qual -Wvla -Wformat=2 -Wno-format-nonliteral
OPT     ?= -O2 -g
ifeq ($(SANITIZE),1)
BUILD   := build/sanitize
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT     := -O1 -g
else
BUILD   := build/release
SANFLAGS :=
endif

# Recursively expanded on purpose: evaluated when a recipe runs, i.e. after
# the deps stamp made sure the packages are there.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
CHECK_CFLAGS = $(shell pkg-config --cflags check)
CHECK_LIBS   = $(shell pkg-config --libs check)

CPPFLAGS += -iquote include -D_GNU_SOURCE -DVT_VERSION='"$(VERSION)"'
ALL_CFLAGS = -std=c11 $(OPT) $(WARN) $(SANFLAGS) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)

# Every module but main.c goes into the test binary too.
LIB_SRCS := $(filter-out collector/main.c,$(wildcard collector/*.c)) \
            $(wildcard exporters/*.c) $(wildcard dashboards/*.c)
TEST_SRCS := $(wildcard tests/*.c)
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
# Dashboard assets (dashboards/assets/*) are compiled in: embed.c writes
# them into a generated C file, linked like any other module.
ASSETS    := $(sort $(wildcard dashboards/assets/*))
EMBED     := $(BUILD)/tools/embed
ASSETS_C  := $(BUILD)/gen/assets_data.c
LIB_OBJS  += $(BUILD)/gen/assets_data.o
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/%.o)
MAIN_OBJ  := $(BUILD)/collector/main.o
DEPS_STAMP := build/.deps-ok

VITALSD   := $(BUILD)/vitalsd
CHECK_BIN := $(BUILD)/check_vitals
LOADGEN   := $(BUILD)/vitals-loadgen
CLIENT_LIB := $(BUILD)/libvitals_client.a
SEND_BIN  := $(BUILD)/vitals-send

.PHONY: all run check unit integ bench bench-load bench-health bench-storage soak deps test-deps clean install fuzz fuzz-build flood demo bench-pages bench-amqp

all: $(VITALSD) $(CLIENT_LIB) $(SEND_BIN)

$(DEPS_STAMP): contrib/ensure-deps.sh
	@sh contrib/ensure-deps.sh build
	@mkdir -p $(dir $@) && touch $@

deps: $(DEPS_STAMP)

# Tools the tests drive for real: promtool, rrdtool, rrdcached, rabbitmq-server,
# amqp-tools, chromium, python3-statsd.
test-deps: $(DEPS_STAMP)
	@sh contrib/ensure-deps.sh test

$(BUILD)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/tests/%.o: tests/%.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c $< -o $@

$(EMBED): dashboards/tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 $(WARN) -o $@ $<

$(ASSETS_C): $(EMBED) $(ASSETS)
	@mkdir -p $(dir $@)
	$(EMBED) $@ $(ASSETS)

$(BUILD)/gen/assets_data.o: $(ASSETS_C) include/assets.h
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(VITALSD): $(MAIN_OBJ) $(LIB_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm -lpthread

$(CHECK_BIN): $(TEST_OBJS) $(LIB_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS) -lm -lpthread

# The C client: a static library services link, and vitals-send on top.
$(BUILD)/contrib/client/vitals_client.o: contrib/client/vitals_client.c include/vitals_client.h | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(OPT) $(WARN) $(SANFLAGS) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(CLIENT_LIB): $(BUILD)/contrib/client/vitals_client.o
	$(AR) rcs $@ $^

$(SEND_BIN): contrib/vitals-send.c $(CLIENT_LIB)
	$(CC) -std=c11 $(OPT) $(WARN) $(SANFLAGS) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(CLIENT_LIB) -lm

$(LOADGEN): tests/bench/loadgen.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -g $(WARN) $(CPPFLAGS) -o $@ $< -lm -lpthread

run: $(VITALSD)
	./$(VITALSD) $(ARGS)

check: unit integ

# Check's per-test timeouts catch hangs, not slowness: the sanitizer build
# runs several times slower, so it gets five times the time.
ifeq ($(SANITIZE),1)
CK_TIMEOUT_MULTIPLIER ?= 5
else
CK_TIMEOUT_MULTIPLIER ?= 1
endif

unit: $(CHECK_BIN) test-deps
	CK_TIMEOUT_MULTIPLIER=$(CK_TIMEOUT_MULTIPLIER) ./$(CHECK_BIN)

integ: $(VITALSD) $(SEND_BIN) test-deps
	VITALSD=$(abspath $(VITALSD)) VITALS_SEND=$(abspath $(SEND_BIN)) SANITIZE=$(SANITIZE) /usr/bin/python3 tests/integ/run.py

bench: bench-load bench-pages bench-health bench-amqp bench-storage

bench-health: $(VITALSD) test-deps
	VITALSD=$(abspath $(VITALSD)) /usr/bin/python3 tests/bench/bench_health.py $(BENCH_HEALTH_ARGS)

bench-load: $(VITALSD) $(LOADGEN) test-deps
	VITALSD=$(abspath $(VITALSD)) LOADGEN=$(abspath $(LOADGEN)) /usr/bin/python3 tests/bench/bench.py $(BENCH_ARGS)

# Relay -> RabbitMQ -> collector, end to end (docs/benchmarks.md).
bench-amqp: $(VITALSD) $(LOADGEN) test-deps
	VITALSD=$(abspath $(VITALSD)) LOADGEN=$(abspath $(LOADGEN)) /usr/bin/python3 tests/bench/bench_amqp.py $(BENCH_AMQP_ARGS)

# Server time of the dashboard pages with 1,000 services.
bench-pages: $(VITALSD) test-deps
	VITALSD=$(abspath $(VITALSD)) /usr/bin/python3 tests/bench/bench_pages.py

# A dozen simulated services feeding a real vitalsd (Ctrl-C stops both).
DEMO_HTTP   ?= 127.0.0.1:8080
DEMO_STATSD ?= 127.0.0.1:8125
demo: $(VITALSD)
	/usr/bin/python3 contrib/demo.py --vitalsd $(VITALSD) --http $(DEMO_HTTP) \
	    --statsd $(DEMO_STATSD) --data-dir build/demo-data $(DEMO_ARGS)

# 100,000 metrics, directly and through rrdcached: about 15 minutes and
# 14 GB of disk per mode at the defaults (see docs/benchmarks.md).
bench-storage: $(VITALSD) test-deps
	VITALSD=$(abspath $(VITALSD)) /usr/bin/python3 tests/bench/bench_storage.py $(BENCH_STORAGE_ARGS)

SOAK_SECONDS ?= 600
soak: $(VITALSD) test-deps
	VITALSD=$(abspath $(VITALSD)) SOAK_SECONDS=$(SOAK_SECONDS) /usr/bin/python3 tests/soak/soak.py $(SOAK_ARGS)

# A flood of 1,000,000 new names, twice: peak RSS stays under a bound.
flood: $(VITALSD) $(LOADGEN) test-deps
	VITALSD=$(abspath $(VITALSD)) LOADGEN=$(abspath $(LOADGEN)) /usr/bin/python3 tests/bench/flood.py $(FLOOD_ARGS)

# Fuzzing: every module again, built by clang with libFuzzer's coverage
# hooks and ASan + UBSan, linked with each tests/fuzz/fuzz_<name>.c.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD   := build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer
FUZZ_CFLAGS   = -std=c11 -O1 -g $(WARN) $(FUZZ_SAN) $(CPPFLAGS) $(PKG_CFLAGS)
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)
FUZZ_OBJS    := $(LIB_SRCS:%.c=$(FUZZ_BUILD)/%.o) $(FUZZ_BUILD)/gen/assets_data.o
FUZZ_STAMP   := build/.fuzz-deps-ok

$(FUZZ_STAMP): contrib/ensure-deps.sh | $(DEPS_STAMP)
	@sh contrib/ensure-deps.sh fuzz
	@mkdir -p $(dir $@) && touch $@

$(FUZZ_BUILD)/%.o: %.c | $(FUZZ_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

# The dashboards' compiled-in assets, generated as for the other builds.
$(FUZZ_BUILD)/gen/assets_data.o: $(ASSETS_C) include/assets.h | $(FUZZ_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS) | $(FUZZ_STAMP)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -iquote tests/fuzz -fsanitize=fuzzer -MMD -MP \
	    -o $@ $< $(FUZZ_OBJS) $(PKG_LIBS) -lm -lpthread

# Pattern-made objects would otherwise be deleted as intermediates.
.SECONDARY: $(FUZZ_OBJS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) \
	    sh tests/fuzz/run.sh $(FUZZ_NAMES)

install: $(VITALSD) $(CLIENT_LIB) $(SEND_BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/vitals
	install -m 755 $(VITALSD) $(DESTDIR)$(PREFIX)/bin/vitalsd
	install -m 644 contrib/vitals.example.json $(DESTDIR)$(PREFIX)/share/vitals/
	install -d $(DESTDIR)$(PREFIX)/share/vitals/hooks
	install -m 755 contrib/hooks/*.sh $(DESTDIR)$(PREFIX)/share/vitals/hooks/

clean:
	rm -rf build/release build/sanitize build/fuzz

-include $(LIB_OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(MAIN_OBJ:.o=.d)
-include $(FUZZ_OBJS:.o=.d) $(FUZZ_BINS:=.d)
