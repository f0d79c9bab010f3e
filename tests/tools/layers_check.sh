#!/bin/sh
# layers_check.sh: the layers of projector/ include only their own headers
# and those of the layers below them (projector/README.md), and nothing
# outside tests/ includes a folder's private header.
#   layers_check.sh SOURCE_ROOT
set -u
root=${1:?usage: layers_check.sh SOURCE_ROOT}
cd "$root" || exit 2
bad=$(mktemp) || exit 2
trap 'rm -f "$bad"' EXIT

# The headers each folder owns.
owner() {
	for d in schema log projector/model projector/views projector/history \
		 projector/import projector/backend; do
		[ -f "$d/$1" ] && { echo "$d"; return; }
	done
	echo ""
}

# The folders a layer may include from (itself first).
allowed() {
	case $1 in
	schema) echo "schema" ;;
	log) echo "log schema" ;;
	projector/model) echo "projector/model schema" ;;
	projector/views) echo "projector/views projector/model log schema" ;;
	projector/history) echo "projector/history projector/views projector/model log schema" ;;
	projector/import) echo "projector/import projector/views projector/model log schema" ;;
	projector/backend) echo "projector/backend projector/history projector/views projector/model log schema" ;;
	esac
}

for layer in schema log projector/model projector/views projector/history projector/import \
	     projector/backend; do
	ok=$(allowed "$layer")
	for f in "$layer"/*.c "$layer"/*.h; do
		[ -f "$f" ] || continue
		grep -n '^#include "' "$f" | while IFS= read -r line; do
			h=$(printf '%s\n' "$line" | sed 's/.*#include "\([^"]*\)".*/\1/')
			case $h in events.pb-c.h) continue ;; esac
			o=$(owner "$h")
			[ -n "$o" ] || continue        # generated, or a system header
			case " $ok " in
			*" $o "*) ;;
			*) echo "$f: includes $h, which belongs to $o: not below $layer"; echo x >>"$bad" ;;
			esac
		done
	done
done

# Private headers are included only inside their folder (and by tests).
for pair in "projector/views views_internal.h rows.h cache.h feed.h wbvfs.h" \
	    "projector/history history_internal.h" "projector/import import_internal.h" \
	    "projector/backend backend_internal.h" "log log_internal.h"; do
	set -- $pair
	dir=$1
	shift
	for h in "$@"; do
		find schema log projector tools -name '*.[ch]' | grep -v "^$dir/" |
		while IFS= read -r f; do
			if grep -q "^#include \"$h\"" "$f"; then
				echo "$f: includes $h, private to $dir"
				echo x >>"$bad"
			fi
		done
	done
done

if [ -s "$bad" ]; then
	echo "layers_check: $(wc -l <"$bad") include(s) against the layering"
	exit 1
fi
echo "layers_check: every include goes down"
