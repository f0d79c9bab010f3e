#!/bin/sh
# test.sh: the README's second command and what CI runs: the whole test
# suite, then again under AddressSanitizer and UndefinedBehaviorSanitizer,
# the log and projector suites under valgrind, and a short fuzzing session
# of every harness (libFuzzer, clang).  Builds what it needs (run
# tools/scripts/quickstart.sh first on a new machine: it installs the packages).
# Ends with one line "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
passed=0
failed=0
status=0

# Runs `meson test` with the given arguments and adds up its counts.
run_suite() {
	label=$1
	shift
	echo "==> $label"
	out=$(mktemp)
	meson test "$@" --print-errorlogs >"$out" 2>&1
	rc=$?
	tail -n 25 "$out"
	ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$out" | tail -n 1)
	bad=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$out" | tail -n 1)
	to=$(sed -n 's/^Timeout: *\([0-9]*\).*/\1/p' "$out" | tail -n 1)
	passed=$((passed + ${ok:-0}))
	failed=$((failed + ${bad:-0} + ${to:-0}))
	if [ "$rc" -ne 0 ]; then
		status=1
		[ -z "$ok$bad" ] && failed=$((failed + 1))
	fi
	rm -f "$out"
}

setup() {
	dir=$1
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >/dev/null || { echo "setup of $dir failed" >&2; status=1; failed=$((failed + 1)); return 1; }
	fi
	ninja -C "$dir" >/dev/null || { ninja -C "$dir" | tail -n 30; status=1; failed=$((failed + 1)); return 1; }
}

setup build --buildtype=debugoptimized && run_suite "tests" -C build

setup build-asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false &&
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	LSAN_OPTIONS=suppressions="$PWD/tests/lsan.supp" \
	run_suite "tests under AddressSanitizer and UndefinedBehaviorSanitizer" -C build-asan

# valgrind: the log suite and the projector's replays, with a lighter
# power-loss run.  The projector's suites are tables of hundreds of rows,
# each a forked process that valgrind follows: under valgrind they take
# forty minutes of CPU on two cores, so CI runs them under ASan and UBSan
# above, and the whole of them under valgrind is a command of its own
# (RELIABILITY.md):
#   meson test -C build --setup=valgrind --suite log --suite projector --timeout-multiplier=20
SL_POWERLOSS_IMAGES=24 run_suite "log and projector tests under valgrind" -C build \
	--setup=valgrind --timeout-multiplier=20 \
	log_writer log_recovery log_faults log_crc32c log_golden replay_segment \
	replay_import projector_diff projector_audit

CC=clang setup build-fuzz --buildtype=debug -Dtests=false -Dfuzz=true \
	-Db_sanitize=address,undefined -Db_lundef=false &&
	run_suite "fuzzing (short)" -C build-fuzz --suite fuzz

echo "$passed passed, $failed failed"
exit $status
