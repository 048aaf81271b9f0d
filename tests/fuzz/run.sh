#!/bin/sh
# run.sh - run libFuzzer targets for a while each (make fuzz).
#   FUZZ_BUILD=build/fuzz FUZZ_SECONDS=60 sh tests/fuzz/run.sh statsd ...
# Each target starts from its committed seed corpus (tests/fuzz/corpus/
# <name>, read only) plus what earlier runs found (build/fuzz/corpus/
# <name>, where new inputs go), with its dictionary when there is one.
# A crash, leak, timeout or broken invariant is saved under
# build/fuzz/artifacts/<name>/ and fails the run; every target still runs.
# Prints one line per target: executions, executions per second, corpus
# size, peak RSS. Runs FUZZ_JOBS targets at once (default: one per CPU).
set -u
build=${FUZZ_BUILD:-build/fuzz}
seconds=${FUZZ_SECONDS:-60}
here=$(dirname "$0")
status=0

# One target: run it, then write its summary line to $build/<name>.result
# and its status to $build/<name>.rc.
run_one() {
	name=$1
	bin="$build/fuzz_$name"
	work="$build/corpus/$name"
	art="$build/artifacts/$name"
	log="$build/$name.log"
	mkdir -p "$work" "$art" "$here/corpus/$name"
	set -- -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
	    -rss_limit_mb=2048 -max_len=16384 -artifact_prefix="$art/"
	[ -f "$here/$name.dict" ] && set -- "$@" -dict="$here/$name.dict"
	nice -n 10 "$bin" "$@" "$work" "$here/corpus/$name" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
	units=$(ls "$work" | wc -l)
	{
	if [ "$rc" -eq 0 ]; then
		printf 'fuzz %-14s ok    %s s, %s execs, %s/s, %s new inputs, peak RSS %s MB\n' \
		    "$name" "$seconds" "${execs:-?}" "${rate:-?}" "$units" "${rss:-?}"
	else
		printf 'fuzz %-14s FAIL  exit %s; log %s, input saved in %s:\n' \
		    "$name" "$rc" "$log" "$art"
		grep -E 'ERROR: |invariant broken|SUMMARY' "$log" | head -5 | sed 's/^/    /'
	fi
	} >"$build/$name.result"
	echo "$rc" >"$build/$name.rc"
}

# FUZZ_JOBS targets at a time (default: one per CPU), each for
# FUZZ_SECONDS: the whole pass takes seconds x targets / jobs.
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
names="$*"
running=0
for name in $names; do
	run_one "$name" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait
for name in $names; do
	cat "$build/$name.result"
	[ "$(cat "$build/$name.rc")" -eq 0 ] || status=1
done
exit $status
