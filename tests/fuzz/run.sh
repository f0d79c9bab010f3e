#!/bin/sh
# run.sh EXE CORPUS RUNS: a bounded libFuzzer session that leaves the kept
# corpus (tests/fuzz/corpus/NAME) untouched: new inputs go to a scratch
# directory, removed afterwards.  A crash's input is kept under
# artifacts/ beside the harness, in the build directory (never in the
# source tree: .gitignore leaves build directories out).
set -eu
exe=$1 corpus=$2 runs=$3
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
artifacts="$(dirname "$exe")/artifacts"
mkdir -p "$artifacts"
"$exe" -runs="$runs" -max_len=65536 -rss_limit_mb=1024 -timeout=10 -print_final_stats=1 \
	-artifact_prefix="$artifacts/" "$scratch" "$corpus"
