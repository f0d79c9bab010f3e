#!/bin/sh
# run-crash.sh: the full crash campaign (RELIABILITY.md), on demand.
#   tests/campaign/run-crash.sh [BUILD_DIR] [crash options...]
# Defaults: 1,000 writer kills, 200 projector kills, 200 rebuild kills.
# Builds the campaign program if needed; exits with its status.
set -eu
build=${1:-build}
[ $# -gt 0 ] && shift
cd "$(dirname "$0")/../.."
[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build" tests/campaign/crash >/dev/null
if [ $# -eq 0 ]; then
	set -- --kills 1000 --proj-kills 200 --rebuild-kills 200 --events 3000 --max-ms 150
fi
exec "$build/tests/campaign/crash" "$@"
