# vitals - build, run, test and benchmark vitalsd.
#
#   make            build build/release/vitalsd
#   make run        build and start vitalsd with its defaults
#   make check      unit tests (Check) and integration tests (real binary)
#   make check SANITIZE=1   the same under AddressSanitizer + UBSan
#   make bench      load benchmarks (prints figures)
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
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/%.o)
MAIN_OBJ  := $(BUILD)/collector/main.o
DEPS_STAMP := build/.deps-ok

VITALSD   := $(BUILD)/vitalsd
CHECK_BIN := $(BUILD)/check_vitals
LOADGEN   := $(BUILD)/vitals-loadgen
CLIENT_LIB := $(BUILD)/libvitals_client.a
SEND_BIN  := $(BUILD)/vitals-send

.PHONY: all run check unit integ bench bench-amqp deps test-deps clean install

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

unit: $(CHECK_BIN) test-deps
	./$(CHECK_BIN)

integ: $(VITALSD) $(SEND_BIN) test-deps
	VITALSD=$(abspath $(VITALSD)) VITALS_SEND=$(abspath $(SEND_BIN)) SANITIZE=$(SANITIZE) /usr/bin/python3 tests/integ/run.py

bench: $(VITALSD) $(LOADGEN) test-deps
	VITALSD=$(abspath $(VITALSD)) LOADGEN=$(abspath $(LOADGEN)) /usr/bin/python3 tests/bench/bench.py $(BENCH_ARGS)
	VITALSD=$(abspath $(VITALSD)) LOADGEN=$(abspath $(LOADGEN)) /usr/bin/python3 tests/bench/bench_amqp.py $(BENCH_AMQP_ARGS)

# Relay -> RabbitMQ -> collector, end to end (docs/benchmarks.md).
bench-amqp: $(VITALSD) $(LOADGEN) test-deps
	VITALSD=$(abspath $(VITALSD)) LOADGEN=$(abspath $(LOADGEN)) /usr/bin/python3 tests/bench/bench_amqp.py $(BENCH_AMQP_ARGS)

install: $(VITALSD) $(CLIENT_LIB) $(SEND_BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/vitals
	install -m 755 $(VITALSD) $(DESTDIR)$(PREFIX)/bin/vitalsd
	install -m 644 contrib/vitals.example.json $(DESTDIR)$(PREFIX)/share/vitals/

clean:
	rm -rf build/release build/sanitize

-include $(LIB_OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(MAIN_OBJ:.o=.d)
