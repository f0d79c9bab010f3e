#!/bin/sh
# install-deps.sh: installs the Debian 12 packages statelog needs to build,
# test and fuzz, when any is missing (chromium: the timeline test renders
# its pages in it, headless; time: the timeline benchmark).  Run as root
# (or with sudo).
set -eu
pkgs="meson ninja-build pkg-config gcc clang libclang-rt-14-dev python3 python3-dev
      python3-pytest python3-pytest-asyncio
      libsqlite3-dev sqlite3 libprotobuf-c-dev protobuf-c-compiler
      libzstd-dev libjansson-dev libcriterion-dev valgrind chromium time"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "install-deps: installing:$missing"
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: need root to install packages (try: sudo $0)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi
