#!/bin/bash
# completion_test.sh STATELOG COMPLETION: the bash completion of statelog(1)
# (tools/completion/statelog.bash) completes what the program has, asked the
# way bash asks it (COMP_WORDS, COMP_CWORD): the commands, each command's
# options as its --help lists them, option values, and job ids of the log
# named on the line.
set -u
sl=$1 comp=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
# a directory holding the program as `statelog`, first on PATH
mkdir "$tmp/bin" && ln -s "$(cd "$(dirname "$sl")" && pwd)/$(basename "$sl")" "$tmp/bin/statelog"
PATH=$tmp/bin:$PATH
. "$comp"
complete -p statelog >/dev/null 2>&1 || { echo "FAIL: no completion registered for statelog"; exit 1; }

# expect NAME WANT WORD...: the completion of the last WORD is exactly WANT
# (space-separated, in any order)
expect() {
	local name=$1 want=$2
	shift 2
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMPREPLY=()
	_statelog
	local got
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort | tr '\n' ' ')
	want=$(printf '%s\n' $want | sed '/^$/d' | sort | tr '\n' ' ')
	if [ "$got" = "$want" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $name: completing '$*': got '$got', want '$want'"
	fi
}

# the commands: every one `statelog --help` lists
cmds=$(statelog --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }' | tr '\n' ' ')
expect "every command" "${cmds}--help --version" statelog ""
expect "commands by prefix" "repair rebuild" statelog re
expect "no such command" "" statelog zz
# each command's options: those its --help names, and --help
for c in $cmds; do
	want=$( (statelog $c --help | grep -o -- '--[a-z][a-z-]*' | sort -u; echo --help) | tr '\n' ' ')
	expect "options of $c" "${want% }" statelog "$c" --
done
expect "an option by prefix" "--seq" statelog show --log x.log --se
expect "durabilities" "always interval none" statelog append --durability ""
expect "statuses" "pending paused paused_at_chain" statelog jobs --status p
expect "bench kinds" "log rebuild backend timetravel" statelog bench ""
expect "bench backend's options" \
	"$( (statelog bench backend --help | grep -o -- '--[a-z][a-z-]*' | sort -u; echo --help) | tr '\n' ' ' | sed 's/ $//')" \
	statelog bench backend --
expect "times" "now -15m -1h -1d -1w" statelog audit j --since ""
expect "a number: nothing" "" statelog show j --seq ""

# job ids of the log named on the line, only as the first operand
statelog init --log "$tmp/j.log" >/dev/null
printf '%s\n' '{"job_id": "alpha-1", "type": "job_created", "body": {"name": "A", "total_sheets": 1}}' \
	'{"job_id": "alpha-2", "type": "job_created", "body": {"name": "B", "total_sheets": 1}}' \
	'{"job_id": "beta", "type": "job_created", "body": {"name": "C", "total_sheets": 1}}' |
	statelog append --log "$tmp/j.log" >/dev/null
expect "job ids" "alpha-1 alpha-2" statelog show --log "$tmp/j.log" al
expect "job ids after options" "beta" statelog audit --log "$tmp/j.log" --sheet 1 b
expect "one job only" "" statelog history --log "$tmp/j.log" beta ""
expect "job ids of a missing log" "" statelog show --log "$tmp/none.log" ""
# paths
mkdir "$tmp/d1" && : >"$tmp/f1"
expect "--log: directories" "$tmp/d1" statelog dump --log "$tmp/d"
expect "--db: files" "$tmp/f1" statelog jobs --db "$tmp/f"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
