#!/bin/sh
# run.sh EXE CORPUS RUNS: a bounded libFuzzer session that leaves the kept
# corpus (tests/fuzz/corpus/NAME) untouched: new inputs go to a scratch
# directory, removed afterwards.
set -eu
exe=$1 corpus=$2 runs=$3
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$exe" -runs="$runs" -max_len=65536 -rss_limit_mb=1024 -timeout=10 -print_final_stats=1 \
	"$scratch" "$corpus"
