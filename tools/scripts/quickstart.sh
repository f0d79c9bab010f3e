#!/bin/sh
# quickstart.sh: the README's first command.  Installs what is missing,
# builds statelog into ./build, and runs `statelog demo`.
# --no-demo stops after the build (what .ci/run uses before the tests).
set -eu
cd "$(dirname "$0")/../.."
sh tools/scripts/install-deps.sh
if [ ! -f build/build.ninja ]; then
	meson setup build --buildtype=debugoptimized
fi
ninja -C build
[ "${1:-}" = "--no-demo" ] && exit 0
exec ./build/tools/statelog demo
