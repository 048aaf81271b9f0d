#!/bin/sh
# Make sure the Debian packages vitals needs are installed.
#   ensure-deps.sh build   libraries and headers to build vitalsd and its tests
#   ensure-deps.sh run     curl and rrdtool, for the README's tour (make run)
#   ensure-deps.sh test    tools the integration tests and benchmarks use
#   ensure-deps.sh fuzz    clang and its libFuzzer runtime (make fuzz)
#   ensure-deps.sh deb     dpkg-buildpackage, debhelper and lintian (make deb)
# As root, missing packages are installed with apt-get; otherwise the exact
# command to run is printed and the script fails.
set -eu

missing=""
need_pkg() {  # need_pkg PKGCONFIG_NAME DEBIAN_PACKAGE
	pkg-config --exists "$1" 2>/dev/null || missing="$missing $2"
}
need_cmd() {  # need_cmd COMMAND DEBIAN_PACKAGE
	command -v "$1" >/dev/null 2>&1 || missing="$missing $2"
}
need_file() { # need_file PATH DEBIAN_PACKAGE
	[ -e "$1" ] || missing="$missing $2"
}

case "${1:-build}" in
build)
	need_cmd pkg-config pkg-config
	need_cmd cc gcc
	need_cmd make make
	need_pkg libmicrohttpd libmicrohttpd-dev
	need_pkg librabbitmq librabbitmq-dev
	need_pkg librrd librrd-dev
	need_pkg libcjson libcjson-dev
	need_pkg libcurl libcurl4-openssl-dev
	need_pkg yaml-0.1 libyaml-dev
	need_pkg check check
	;;
run)
	# what the README's tour uses besides the daemon and vitals-send
	need_cmd curl curl
	need_cmd rrdtool rrdtool
	;;
test)
	need_cmd promtool prometheus
	need_cmd man man-db	# test_install.py renders the man pages (groff-base comes with it)
	need_cmd rrdtool rrdtool
	need_cmd curl curl
	need_cmd openssl openssl
	need_cmd nc netcat-openbsd
	need_file /usr/bin/python3 python3
	need_file /usr/lib/python3/dist-packages/statsd python3-statsd
	need_cmd rrdcached rrdcached
	need_cmd systemd-analyze systemd
	need_cmd rabbitmq-server rabbitmq-server
	need_cmd amqp-publish amqp-tools
	need_cmd openssl openssl
	need_cmd chromium chromium
	# test_graphite.py: a real carbon-cache, its whisper files read back
	need_cmd carbon-cache graphite-carbon
	need_file /usr/lib/python3/dist-packages/whisper.py python3-whisper
	# test_deb.py builds and checks the Debian packages (as make deb)
	need_cmd dpkg-buildpackage dpkg-dev
	need_cmd dh debhelper
	need_cmd lintian lintian
	;;
deb)
	need_cmd dpkg-buildpackage dpkg-dev
	need_cmd dh debhelper
	need_cmd lintian lintian
	need_file /usr/share/build-essential/essential-packages-list build-essential
	;;
fuzz)
	# libFuzzer ships in clang's runtime package (libclang-rt-14-dev on
	# Debian 12, libclang-rt-dev for the default clang); probe by linking
	# an empty fuzz target.
	if ! command -v clang >/dev/null 2>&1; then
		missing="$missing clang libclang-rt-dev"
	else
		probe=$(mktemp -d)
		printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' >"$probe/p.c"
		clang -fsanitize=fuzzer,address,undefined "$probe/p.c" \
		    -o "$probe/p" >/dev/null 2>&1 ||
		    missing="$missing libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev"
		rm -rf "$probe"
	fi
	;;
*)
	echo "usage: $0 build|run|test|fuzz|deb" >&2; exit 64 ;;
esac

[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then
	echo "ensure-deps: installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -q --no-install-recommends $missing >&2; then
		apt-get update -q >&2
		apt-get install -y -q --no-install-recommends $missing >&2
	fi
else
	echo "ensure-deps: missing packages; run as root:" >&2
	echo "  apt-get install -y$missing" >&2
	exit 1
fi
