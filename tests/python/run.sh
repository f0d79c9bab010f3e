#!/bin/sh
# run.sh BUILD_PYTHON_DIR SRC_TESTS_DIR STATELOG: the Python package's pytest suite,
# under the first interpreter that has pytest (Debian's python3-pytest
# installs it for /usr/bin/python3; tools/scripts/install-deps.sh installs
# it), with the package from the build directory.
set -u
pkg=$1
tests=$2
# import_original() runs the statelog program: the one just built
PATH="$(dirname "$3"):$PATH"
export PATH
for py in /usr/bin/python3 python3; do
	if "$py" -c 'import pytest' 2>/dev/null; then
		PYTHONPATH="$pkg${PYTHONPATH:+:$PYTHONPATH}" exec "$py" -m pytest -q -p no:cacheprovider "$tests"
	fi
done
echo "no Python 3 with pytest (sh tools/scripts/install-deps.sh installs python3-pytest)" >&2
exit 1
