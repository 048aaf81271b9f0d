# vitals - build, run, test and benchmark vitalsd.
#
#   make            build build/release/vitalsd
#   make run        build and start vitalsd with its defaults
#   make check      layering, unit tests (Check) and integration tests (real binary)
#   make layering   no include points up a layer (tests/layering.py)
#   make check SANITIZE=1   the same under AddressSanitizer + UBSan
#   make bench      load, healthcheck and storage benchmarks (prints figures)
#   make soak       SOAK_SECONDS=600: mixed traffic under faults, checks RSS, fds, counts
#   make flood      1,000,000 new names: peak RSS against its bound
#   make fuzz       libFuzzer targets (clang), FUZZ_SECONDS each (default 60)
#   make demo       vitalsd plus a simulated fleet: open http://127.0.0.1:8080/?wall=1
#   make install    PREFIX=/usr/local DESTDIR= (make uninstall: the same files)
#   make deb        Debian packages into build/deb/ (dpkg-buildpackage, lintian)
#
# Missing Debian packages are installed by contrib/ensure-deps.sh (as root;
# otherwise it prints the apt-get line to run and stops).

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
VERSION := 0.1.0

PKGS    := libmicrohttpd librabbitmq librrd libcjson libcurl yaml-0.1

WARN    := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
           -Wpointer-arith -Wcast-qual -Wvla -Wformat=2 -Wno-format-nonliteral
OPT     ?= -O2 -g
ifeq ($(SANITIZE),1)
BUILD   ?= build/sanitize
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT     := -O1 -g
else
BUILD   ?= build/release
SANFLAGS :=
endif

# Recursively expanded on purpose: evaluated when a recipe runs, i.e. after
# the deps stamp made sure the packages are there.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
# librrd, libcurl and librabbitmq are not linked: they are opened at run
# time on first use (collector/base/dynlib.h), by the sonames their -dev packages
# name, so a daemon pays only for what its config uses.
DLOPEN_PKGS := librrd libcurl librabbitmq
PKG_LIBS   = $(shell pkg-config --libs $(filter-out $(DLOPEN_PKGS),$(PKGS))) -ldl
CHECK_CFLAGS = $(shell pkg-config --cflags check)
CHECK_LIBS   = $(shell pkg-config --libs check)

CPPFLAGS += -iquote . -iquote include -iquote build/gen -D_GNU_SOURCE -DVT_VERSION='"$(VERSION)"'
ALL_CFLAGS = -std=c11 $(OPT) $(WARN) $(SANFLAGS) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)

# One folder per subsystem, each module's header beside its .c; includes
# name the header from the top of the tree ("collector/base/buf.h"), and
# `make layering` checks that no folder includes one above it.
# Every module but main.c goes into the test binary too.
SUBSYSTEMS := $(sort $(dir $(wildcard collector/*/*.c exporters/*/*.c dashboards/*/*.c)))
LIB_SRCS := $(filter-out collector/daemon/main.c dashboards/tools/embed.c, \
            $(wildcard collector/*/*.c exporters/*/*.c dashboards/*/*.c))
TEST_SRCS := $(wildcard tests/*.c)
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
# Dashboard assets (dashboards/assets/*) are compiled in: embed.c writes
# them into a generated C file, linked like any other module.
ASSETS    := $(sort $(filter-out %.c %.h,$(wildcard dashboards/assets/*)))
EMBED     := $(BUILD)/tools/embed
ASSETS_C  := $(BUILD)/gen/assets_data.c
LIB_OBJS  += $(BUILD)/gen/assets_data.o
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/%.o)
MAIN_OBJ  := $(BUILD)/collector/daemon/main.o
DEPS_STAMP := build/.deps-ok

VITALSD   := $(BUILD)/vitalsd
CHECK_BIN := $(BUILD)/check_vitals
LOADGEN   := $(BUILD)/vitals-loadgen
COUNTRX   := $(BUILD)/vitals-countrx
INGESTBENCH := $(BUILD)/vitals-ingestbench
CLIENT_LIB := $(BUILD)/libvitals_client.a
# The shared client: real name, soname (the major) and the link name.
CLIENT_SO_MAJOR := 0
CLIENT_SONAME   := libvitals_client.so.$(CLIENT_SO_MAJOR)
CLIENT_SO       := $(BUILD)/libvitals_client.so.$(VERSION)
SEND_BIN  := $(BUILD)/vitals-send

.PHONY: all run check layering unit integ bench bench-default bench-load bench-ingest bench-health bench-storage soak deps test-deps clean install uninstall fuzz fuzz-build flood demo bench-pages bench-amqp bench-fleet deb

all: $(VITALSD) $(CLIENT_LIB) $(CLIENT_SO) $(SEND_BIN)

$(DEPS_STAMP): contrib/ensure-deps.sh
	@sh contrib/ensure-deps.sh build
	@mkdir -p $(dir $@) && touch $@

deps: $(DEPS_STAMP)

# Tools the tests drive for real: promtool, rrdtool, rrdcached, rabbitmq-server,
# amqp-tools, chromium, python3-statsd, carbon-cache and python3-whisper.
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

# The sonames of the libraries opened at run time, read off the -dev
# packages' link names (librrd.so -> librrd.so.8).
SONAMES_H := build/gen/sonames.h
$(SONAMES_H): | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@{ echo '/* generated by the Makefile: sonames of dlopen()ed libraries */'; \
	  for p in $(DLOPEN_PKGS); do \
	    so=$$(objdump -p "$$(pkg-config --variable=libdir $$p)/$$p.so" | \
	        awk '/SONAME/ {print $$2}'); \
	    test -n "$$so" || { echo "no soname for $$p" >&2; exit 1; }; \
	    echo "#define VT_$$(echo $$p | tr a-z A-Z)_SONAME \"$$so\""; \
	  done; } > $@.tmp && mv $@.tmp $@
$(BUILD)/exporters/rrd/rrd_lib.o $(BUILD)/collector/alerts/hook_webhook.o \
    $(BUILD)/collector/amqp/amqp_lib.o: $(SONAMES_H)

$(ASSETS_C): $(EMBED) $(ASSETS)
	@mkdir -p $(dir $@)
	$(EMBED) $@ $(ASSETS)

$(BUILD)/gen/assets_data.o: $(ASSETS_C) dashboards/assets/assets.h
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(VITALSD): $(MAIN_OBJ) $(LIB_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm -lpthread

$(CHECK_BIN): $(TEST_OBJS) $(LIB_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS) -lm -lpthread

# The C client: a static and a shared library services link, and
# vitals-send on top (linked statically). The shared one is compiled
# again as position-independent code and carries its soname.
$(BUILD)/contrib/client/vitals_client.o: contrib/client/vitals_client.c include/vitals_client.h | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(OPT) $(WARN) $(SANFLAGS) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/contrib/client/vitals_client.pic.o: contrib/client/vitals_client.c include/vitals_client.h | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(OPT) $(WARN) $(SANFLAGS) $(CPPFLAGS) $(CFLAGS) -fPIC -c $< -o $@

$(CLIENT_LIB): $(BUILD)/contrib/client/vitals_client.o
	$(AR) rcs $@ $^

$(CLIENT_SO): $(BUILD)/contrib/client/vitals_client.pic.o
	$(CC) $(ALL_LDFLAGS) -shared -Wl,-soname,$(CLIENT_SONAME) -o $@ $^

$(SEND_BIN): contrib/vitals-send.c $(CLIENT_LIB)
	$(CC) -std=c11 $(OPT) $(WARN) $(SANFLAGS) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(CLIENT_LIB) -lm

$(LOADGEN): tests/bench/loadgen.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -g $(WARN) $(CPPFLAGS) -o $@ $< -lm -lpthread

# The load benchmark's floor: a receiver that only counts lines.
$(COUNTRX): tests/bench/countrx.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -g $(WARN) $(CPPFLAGS) -o $@ $<

# The user-space share of a load scenario: ingest without the kernel.
$(INGESTBENCH): $(BUILD)/tests/bench/ingestbench.o $(LIB_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm -lpthread

# The README's tour: the daemon, vitals-send, and curl and rrdtool to
# look at what it serves and stores.
run: $(VITALSD) $(SEND_BIN)
	@sh contrib/ensure-deps.sh run
	./$(VITALSD) $(ARGS)

check: layering unit integ

# Folders are layers: an include only points down (tests/layering.py).
layering:
	/usr/bin/python3 tests/layering.py

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

bench: bench-load bench-ingest bench-pages bench-health bench-amqp bench-storage bench-default

bench-health: $(VITALSD) test-deps
	VITALSD=$(abspath $(VITALSD)) /usr/bin/python3 tests/bench/bench_health.py $(BENCH_HEALTH_ARGS)

bench-load: $(VITALSD) $(LOADGEN) $(COUNTRX) test-deps
	VITALSD=$(abspath $(VITALSD)) LOADGEN=$(abspath $(LOADGEN)) COUNTRX=$(abspath $(COUNTRX)) /usr/bin/python3 tests/bench/bench.py $(BENCH_ARGS)

# Parse and aggregate only, over loadgen's datagrams for a8 and c.
INGEST_SECONDS ?= 5
bench-ingest: $(INGESTBENCH) $(LOADGEN)
	@echo "a8's datagrams (counters, 1,000 names):"
	$(LOADGEN) --dump --names 1000 --mix counter | $(INGESTBENCH) --seconds $(INGEST_SECONDS) --cpu 0
	@echo "c's datagrams (mixed, 10,000 names):"
	$(LOADGEN) --dump --names 10000 --mix mixed | $(INGESTBENCH) --seconds $(INGEST_SECONDS) --cpu 0
	@echo "c's datagrams, caches evicted every 50 (20 ms of c's traffic):"
	$(LOADGEN) --dump --names 10000 --mix mixed | $(INGESTBENCH) --seconds $(INGEST_SECONDS) --cpu 0 --evict-every 50
	@echo "c's datagrams, every name mapped by one of 1,000 glob rules (bench.py's c_sat_1000 file):"
	/usr/bin/python3 -c 'import sys; sys.path.insert(0, "tests/bench"); import bench; sys.stdout.write(bench.mapping_yaml(1000))' > $(BUILD)/bench-mapping-1000.yml
	$(LOADGEN) --dump --names 10000 --mix mixed | $(INGESTBENCH) --seconds $(INGEST_SECONDS) --cpu 0 --mapping $(BUILD)/bench-mapping-1000.yml

# Relay -> RabbitMQ -> collector, end to end (docs/benchmarks.md).
bench-amqp: $(VITALSD) $(LOADGEN) test-deps
	VITALSD=$(abspath $(VITALSD)) LOADGEN=$(abspath $(LOADGEN)) /usr/bin/python3 tests/bench/bench_amqp.py $(BENCH_AMQP_ARGS)

# Two relays -> RabbitMQ -> two collectors on a consistent-hash ring, with a
# collector and a broker restart mid-run (docs/benchmarks.md, "Fleet"); 3-5
# minutes. BUILD= picks the build measured (the script runs copies of it).
bench-fleet: $(VITALSD) $(LOADGEN) test-deps
	VITALSD=$(abspath $(VITALSD)) LOADGEN=$(abspath $(LOADGEN)) /usr/bin/python3 tests/bench/fleet.py $(BENCH_FLEET_ARGS)

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

# The default configuration end to end with storage on, CPU of the whole
# process tree: 10,000 mixed names at 100,000 lines/s and 1 s windows
# (direct, then through rrdcached), and 100,000 names at 10 s windows
# (about 15 minutes and 10 GB of disk; docs/benchmarks.md). The binaries
# are copied first, so a rebuild during the run does not change them.
bench-default: $(VITALSD) $(LOADGEN) test-deps
	mkdir -p $(BUILD)/bench-default
	cp $(VITALSD) $(LOADGEN) $(BUILD)/bench-default/
	VITALSD=$(abspath $(BUILD)/bench-default/vitalsd) LOADGEN=$(abspath $(BUILD)/bench-default/vitals-loadgen) /usr/bin/python3 tests/bench/bench_default.py $(BENCH_DEFAULT_ARGS)

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
$(FUZZ_BUILD)/gen/assets_data.o: $(ASSETS_C) dashboards/assets/assets.h | $(FUZZ_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS) | $(FUZZ_STAMP)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -iquote tests/fuzz -fsanitize=fuzzer -MMD -MP \
	    -o $@ $< $(FUZZ_OBJS) $(PKG_LIBS) -lm -lpthread

$(FUZZ_BUILD)/exporters/rrd/rrd_lib.o $(FUZZ_BUILD)/collector/alerts/hook_webhook.o \
    $(FUZZ_BUILD)/collector/amqp/amqp_lib.o: $(SONAMES_H)

# Pattern-made objects would otherwise be deleted as intermediates.
.SECONDARY: $(FUZZ_OBJS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) \
	    sh tests/fuzz/run.sh $(FUZZ_NAMES)

# Where `make install` puts things. A daemon goes to sbin, as Debian
# users expect (vitalsd(8)); LIBDIR may be a multiarch directory.
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share/vitals
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
# The systemd unit is installed when the tree has one.
SYSTEMD_UNIT := $(wildcard contrib/systemd/vitalsd.service)
HOOKS      := $(notdir $(wildcard contrib/hooks/*.sh))
MAN_PAGES  := vitals-send.1 vitals.json.5 vitalsd.8
man_dir     = $(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(1)))
PC_FILE    := vitals-client.pc

install: $(VITALSD) $(SEND_BIN) $(CLIENT_LIB) $(CLIENT_SO)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) \
	    $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(DATADIR)/hooks \
	    $(foreach m,$(MAN_PAGES),$(call man_dir,$(m)))
	install -m 755 $(VITALSD) $(DESTDIR)$(SBINDIR)/vitalsd
	install -m 755 $(SEND_BIN) $(DESTDIR)$(BINDIR)/vitals-send
	install -m 644 $(CLIENT_LIB) $(DESTDIR)$(LIBDIR)/libvitals_client.a
	install -m 644 $(CLIENT_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(CLIENT_SO)) $(DESTDIR)$(LIBDIR)/$(CLIENT_SONAME)
	ln -sf $(CLIENT_SONAME) $(DESTDIR)$(LIBDIR)/libvitals_client.so
	install -m 644 include/vitals_client.h $(DESTDIR)$(INCLUDEDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    contrib/pkgconfig/$(PC_FILE).in > $(DESTDIR)$(PKGCONFIGDIR)/$(PC_FILE)
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/$(PC_FILE)
	$(foreach m,$(MAN_PAGES),install -m 644 contrib/man/$(m) $(call man_dir,$(m))/$(m);)
	install -m 644 contrib/vitals.example.json $(DESTDIR)$(DATADIR)/
	install -m 755 $(addprefix contrib/hooks/,$(HOOKS)) $(DESTDIR)$(DATADIR)/hooks/
ifneq ($(SYSTEMD_UNIT),)
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed -e 's|/usr/sbin/vitalsd|$(SBINDIR)/vitalsd|' $(SYSTEMD_UNIT) \
	    > $(DESTDIR)$(SYSTEMDUNITDIR)/vitalsd.service
	chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/vitalsd.service
endif

# Exactly the files install writes, and the directories that are ours.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/vitalsd $(DESTDIR)$(BINDIR)/vitals-send \
	    $(DESTDIR)$(LIBDIR)/libvitals_client.a \
	    $(DESTDIR)$(LIBDIR)/$(notdir $(CLIENT_SO)) \
	    $(DESTDIR)$(LIBDIR)/$(CLIENT_SONAME) \
	    $(DESTDIR)$(LIBDIR)/libvitals_client.so \
	    $(DESTDIR)$(INCLUDEDIR)/vitals_client.h \
	    $(DESTDIR)$(PKGCONFIGDIR)/$(PC_FILE) \
	    $(foreach m,$(MAN_PAGES),$(call man_dir,$(m))/$(m)) \
	    $(DESTDIR)$(DATADIR)/vitals.example.json \
	    $(addprefix $(DESTDIR)$(DATADIR)/hooks/,$(HOOKS)) \
	    $(if $(SYSTEMD_UNIT),$(DESTDIR)$(SYSTEMDUNITDIR)/vitalsd.service)
	rmdir $(DESTDIR)$(DATADIR)/hooks $(DESTDIR)$(DATADIR) 2>/dev/null || true

# The Debian packages (debian/): built in a copy of the tree, the files
# git knows plus new ones it does not ignore, so dpkg-buildpackage drops
# its .debs, .changes and .buildinfo into build/deb/, not beside the
# checkout; then lintian on them (docs/operations.md, "Debian package").
DEB_DIR ?= build/deb
deb:
	@sh contrib/ensure-deps.sh build
	@sh contrib/ensure-deps.sh deb
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	    git ls-files -z --cached --others --exclude-standard | \
	    xargs -0 sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' sh | \
	    tar --null -T - -cf - ; \
	else tar --exclude=./build -cf - . ; fi | tar -xf - -C $(DEB_DIR)/src
	cd $(DEB_DIR)/src && dpkg-buildpackage -b -us -uc --jobs-try=auto
	lintian --fail-on error $(DEB_DIR)/*.changes

clean:
	rm -rf build/release build/sanitize build/fuzz

-include $(LIB_OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(MAIN_OBJ:.o=.d)
-include $(FUZZ_OBJS:.o=.d) $(FUZZ_BINS:=.d)
