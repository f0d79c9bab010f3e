#!/bin/sh
# readme_check.sh README EXAMPLE_C EXAMPLE_EXE: the C example in README.md
# is exactly tests/tools/readme_example.c (which the suite compiles), and
# run in a new directory it prints exactly what the README says it prints.
set -eu
readme=$1 src=$2 exe=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the block between two markers, without its ``` fences
block() {
	sed -n "/<!-- $1:begin -->/,/<!-- $1:end -->/p" "$readme" | sed '1d;$d' | sed '1d;$d'
}
block example >"$tmp/from-readme.c"
if ! diff -u "$src" "$tmp/from-readme.c"; then
	echo "README.md's C example differs from $src" >&2
	exit 1
fi
block example-output >"$tmp/expected"
[ -s "$tmp/expected" ] || { echo "README.md shows no output of the example" >&2; exit 1; }
"$exe" "$tmp/example.log" >"$tmp/out"
cat "$tmp/out"
if ! diff -u "$tmp/expected" "$tmp/out"; then
	echo "the example's output differs from what README.md shows" >&2
	exit 1
fi
echo "1 passed, 0 failed"
