#!/bin/sh
# readme_check.sh README EXAMPLE_C EXAMPLE_EXE: the C example in README.md
# is exactly tests/tools/readme_example.c (which the suite compiles), and
# it runs and prints what the README says.
set -eu
readme=$1 src=$2 exe=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the block between the markers, without its ``` fences
sed -n '/<!-- example:begin -->/,/<!-- example:end -->/p' "$readme" |
	sed '1d;$d' | sed '1d;$d' >"$tmp/from-readme.c"
if ! diff -u "$src" "$tmp/from-readme.c"; then
	echo "README.md's C example differs from $src" >&2
	exit 1
fi
"$exe" "$tmp/example.log" >"$tmp/out"
cat "$tmp/out"
grep -qx 'appended seq 1-2' "$tmp/out"
grep -qx '#1 nightly-build pid_set' "$tmp/out"
grep -qx '#2 nightly-build sheet_started' "$tmp/out"
echo "1 passed, 0 failed"
