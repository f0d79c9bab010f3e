#!/bin/sh
# install_test.sh BUILDDIR EXAMPLE_C CXX_EXAMPLE README: what `meson install` puts in place
# works for someone outside the tree.  Installs into a scratch directory
# (meson install --destdir), then:
#  - checks the libraries (libstatelog.so.MAJOR and its links, libstatelog.a,
#    no component archive), the headers (every public one, statelog.h, and
#    none naming protobuf-c or jansson) and where statelog.pc lands (the
#    pkgconfig directory of the library directory, where pkg-config looks);
#  - compiles the README's C example against the installed headers and
#    libraries both ways: `pkg-config --cflags --libs statelog` (shared:
#    it needs libstatelog.so.0, run with LD_LIBRARY_PATH) and
#    `cc -static ... pkg-config --static ...` (static: nothing of statelog
#    needed at run time), and runs each: each prints what README.md shows;
#  - compiles the C++ program tests/lib/cxx_example.cpp against the installed
#    headers and the shared library, and runs it (when a C++ compiler is
#    there: $CXX or c++);
#  - compiles a file including every installed header, each on its own, as
#    C and as C++;
#  - runs the installed program (--version, --help);
#  - checks the installed man page statelog(1): man -l renders it, and
#    groff (or mandoc) finds nothing to warn about.
# Exits 77 (meson's "skipped") only when meson, a C compiler or pkg-config
# is missing.  Needs $MESON (set by tests/tools/meson.build) or meson on PATH;
# $SL_EXTRA_CFLAGS is added when compiling (a sanitizer build's -fsanitize,
# which cannot link -static: the static build is then skipped, with a note).
set -u
build=$1 example=$2 cxx_example=$3 readme=$4
meson=${MESON:-}
[ -n "$meson" ] || meson=$(command -v meson || true)
cc=${CC:-cc}
cxx=${CXX:-c++}
command -v "$cxx" >/dev/null 2>&1 || cxx=""
extra=${SL_EXTRA_CFLAGS:-}
for tool in "$meson" "$cc" pkg-config; do
	if [ -z "$tool" ] || ! command -v "$tool" >/dev/null 2>&1; then
		echo "skipped: ${tool:-meson} is not installed"
		exit 77
	fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

root="$tmp/root"
if "$meson" install -C "$build" --no-rebuild --quiet --destdir "$root" >"$tmp/install.out" 2>&1; then
	ok
else
	bad "meson install --destdir"
	sed 's/^/  /' "$tmp/install.out" | tail -n 20
	echo "$pass passed, $fail failed"
	exit 1
fi

pc=$(find "$root" -name statelog.pc | head -n 1)
if [ -n "$pc" ]; then ok; else bad "no statelog.pc installed"; fi
lib=$(find "$root" -name 'libstatelog.so.[0-9]*' -type f | head -n 1)
libdir=$(dirname "${lib:-/nonexistent/x}")
if [ -n "$lib" ]; then ok; else bad "no libstatelog.so.* installed"; fi
for f in libstatelog.so libstatelog.so.0 libstatelog.a; do
	if [ -e "$libdir/$f" ]; then ok; else bad "$f not installed beside $lib"; fi
done
if [ -z "$(find "$root" -name 'libsl_*')" ]; then ok; else
	bad "component archives installed: $(find "$root" -name 'libsl_*')"; fi
if [ "$(readelf -d "$libdir/libstatelog.so.0" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')" = libstatelog.so.0 ]
then ok; else bad "libstatelog's soname is not libstatelog.so.0"; fi
# where pkg-config finds it for this prefix: <libdir>/pkgconfig/statelog.pc
if [ "$pc" = "$libdir/pkgconfig/statelog.pc" ]; then ok; else
	bad "statelog.pc is at $pc, not in $libdir/pkgconfig"; fi
echo "installed: ${pc#"$root"}, ${lib#"$root"}"

inc=$(find "$root" -type d -path '*/include/statelog' | head -n 1)
for h in statelog.h sl_api.h sl_error.h sl_version.h event.h event_json.h timefmt.h log.h \
	io.h state.h projector.h history.h backend.h import.h; do
	if [ -f "$inc/$h" ]; then ok; else bad "header statelog/$h not installed"; fi
done
# statelog.h includes every other installed header.
for h in "$inc"/*.h; do
	name=$(basename "$h")
	[ "$name" = statelog.h ] && continue
	if grep -q "^#include \"$name\"" "$inc/statelog.h"; then ok; else
		bad "statelog.h does not include $name"; fi
done
# Every header that declares a call has extern "C" guards, for C++ callers.
for h in "$inc"/*.h; do
	grep -q '^SL_API ' "$h" || continue
	if grep -q '^extern "C" {' "$h"; then ok; else
		bad "statelog/$(basename "$h") has no extern \"C\" guards"; fi
done
# The headers need neither protobuf-c nor jansson.
if [ ! -e "$inc/events.pb-c.h" ]; then ok; else bad "statelog/events.pb-c.h is installed"; fi
if grep -lE 'pb-c\.h|jansson\.h|ProtobufC|json_t' "$inc"/*.h; then
	bad "installed headers name protobuf-c or jansson (above)"
else
	ok
fi
bin=$(find "$root" -type f -path '*/bin/statelog' | head -n 1)
man=$(find "$root" -type f -path '*/man1/statelog.1' | head -n 1)
[ -n "$bin" ] && ok || bad "the statelog program is not installed"
[ -n "$man" ] && ok || bad "the man page statelog.1 is not installed"
comp=$(find "$root" -type f -path '*/share/bash-completion/completions/statelog' | head -n 1)
if [ -n "$comp" ] && bash -n "$comp"; then ok; else
	bad "no bash completion installed as share/bash-completion/completions/statelog"; fi

# pkg-config sees the scratch root as the system root: -I and -L point into it.
export PKG_CONFIG_PATH="$(dirname "$pc")"
export PKG_CONFIG_SYSROOT_DIR="$root"
if flags=$(pkg-config --cflags --libs statelog 2>"$tmp/pc.err"); then ok; else
	bad "pkg-config --cflags --libs statelog"; cat "$tmp/pc.err"; fi
cflags=$(pkg-config --cflags statelog)
libs=$(pkg-config --libs statelog)

# The README's example, as a user builds it: shared, then static.
# what it prints, as README.md shows it (tests/tools/readme_check.sh)
sed -n '/<!-- example-output:begin -->/,/<!-- example-output:end -->/p' "$readme" |
	sed '1d;$d' | sed '1d;$d' >"$tmp/expected"
check_output() {
	if [ -s "$tmp/expected" ] && diff -u "$tmp/expected" "$1" >"$tmp/diff"; then ok; else
		bad "$2 example does not print what README.md shows"; cat "$tmp/diff"; fi
}
if $cc -std=gnu11 -Wall -Werror $extra $cflags -o "$tmp/example" "$example" $libs 2>"$tmp/cc.err"; then
	ok
else
	bad "cc \$(pkg-config --cflags --libs statelog) readme_example.c"
	sed 's/^/  /' "$tmp/cc.err" | head -n 20
fi
if [ -x "$tmp/example" ]; then
	if readelf -d "$tmp/example" | grep -q 'NEEDED.*libstatelog\.so\.0'; then ok; else
		bad "the shared example does not need libstatelog.so.0"; fi
	if LD_LIBRARY_PATH="$libdir" "$tmp/example" "$tmp/example.log" >"$tmp/example.out" 2>&1
	then ok; else bad "the shared example failed"; cat "$tmp/example.out"; fi
	check_output "$tmp/example.out" "the shared"
fi

if [ -n "$extra" ]; then
	echo "note: $extra cannot link -static; the static example is built by the plain build"
else
	slibs=$(pkg-config --static --libs statelog)
	if $cc -std=gnu11 -Wall -Werror -static $cflags -o "$tmp/example-static" "$example" $slibs \
		2>"$tmp/cc.err"; then
		ok
	else
		bad "cc -static \$(pkg-config --static --cflags --libs statelog) readme_example.c"
		sed 's/^/  /' "$tmp/cc.err" | head -n 20
	fi
	if [ -x "$tmp/example-static" ]; then
		if ! readelf -d "$tmp/example-static" 2>/dev/null | grep -q NEEDED; then ok; else
			bad "the static example needs shared libraries"; fi
		if env -u LD_LIBRARY_PATH "$tmp/example-static" "$tmp/example-static.log" \
			>"$tmp/example-static.out" 2>&1
		then ok; else bad "the static example failed"; cat "$tmp/example-static.out"; fi
		check_output "$tmp/example-static.out" "the static"
	fi
fi

# The C++ program, against the installed headers and the shared library.
if [ -n "$cxx" ]; then
	if $cxx -std=c++17 -Wall -Wextra -Wpedantic -Werror $extra $cflags -o "$tmp/cxx_example" \
		"$cxx_example" $libs 2>"$tmp/cxx.err"; then
		ok
	else
		bad "$cxx \$(pkg-config --cflags --libs statelog) cxx_example.cpp"
		sed 's/^/  /' "$tmp/cxx.err" | head -n 20
	fi
	if [ -x "$tmp/cxx_example" ]; then
		mkdir -p "$tmp/cxx"
		if LD_LIBRARY_PATH="$libdir" "$tmp/cxx_example" "$tmp/cxx" >"$tmp/cxx.out" 2>&1; then
			ok
		else
			bad "the C++ program failed"; grep -v '^ok ' "$tmp/cxx.out"
		fi
	fi
else
	echo "note: no C++ compiler (\$CXX, c++); the C++ program is not built"
fi

# Every public header compiles on its own (nothing it needs is left out),
# in C and in C++ (extern "C", no C-only syntax).
for h in "$inc"/*.h; do
	name=$(basename "$h")
	printf '#include <statelog/%s>\nint main(void) { return 0; }\n' "$name" >"$tmp/one.c"
	if $cc -std=gnu11 -Wall -Werror $cflags -c -o "$tmp/one.o" "$tmp/one.c" 2>"$tmp/one.err"; then
		ok
	else
		bad "<statelog/$name> does not compile on its own"; head -n 5 "$tmp/one.err"
	fi
	[ -n "$cxx" ] || continue
	printf '#include <statelog/%s>\nint main() { return 0; }\n' "$name" >"$tmp/one.cpp"
	if $cxx -std=c++11 -Wall -Wextra -Wpedantic -Werror $cflags -c -o "$tmp/one.o" "$tmp/one.cpp" \
		2>"$tmp/one.err"; then
		ok
	else
		bad "<statelog/$name> does not compile on its own in C++"; head -n 5 "$tmp/one.err"
	fi
done

# The installed program.
if [ -n "$bin" ]; then
	if "$bin" --version | grep -q '^statelog '; then ok; else bad "statelog --version"; fi
	if "$bin" --help | grep -q 'import'; then ok; else bad "statelog --help lacks import"; fi
fi

# The man page: rendered by man, and no warnings from groff or mandoc.
if [ -n "$man" ]; then
	if command -v man >/dev/null 2>&1; then
		if MANWIDTH=80 man -l "$man" >"$tmp/man.out" 2>"$tmp/man.err" && [ -s "$tmp/man.out" ]; then
			ok
		else
			bad "man -l statelog.1"; head -n 5 "$tmp/man.err"
		fi
		for word in NAME SYNOPSIS COMMANDS import 'EXIT STATUS' DURABILITY FILES EXAMPLES; do
			if grep -q -- "$word" "$tmp/man.out"; then ok; else bad "the man page lacks $word"; fi
		done
	else
		echo "note: man is not installed; statelog.1 not rendered"
	fi
	if command -v groff >/dev/null 2>&1; then
		groff -man -Tutf8 -ww -z "$man" >"$tmp/groff.err" 2>&1
		if [ ! -s "$tmp/groff.err" ]; then ok; else
			bad "groff warns about statelog.1"; head -n 10 "$tmp/groff.err"; fi
	elif command -v mandoc >/dev/null 2>&1; then
		if mandoc -Tlint -Wwarning "$man" >"$tmp/mandoc.err" 2>&1; then ok; else
			bad "mandoc -Tlint statelog.1"; head -n 10 "$tmp/mandoc.err"; fi
	else
		echo "note: neither groff nor mandoc is installed; statelog.1 not linted"
	fi
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
