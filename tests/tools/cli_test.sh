#!/bin/sh
# cli_test.sh STATELOG RAW_APPEND: the program as a user runs it: every command's
# --help, usage errors (exit 2), init, append (good and malformed input),
# dump with its filters, verify (sound, torn, damaged: exit 3), repair, and
# the demo.  Prints "N passed, N failed".
set -u
sl=$1
raw=${2:-}   # tests/tools/raw_append: the log API alone, no rules
daemon=${3:-}  # tests/tools/be_daemon: the backend kept open, one call per line
tmp=$(mktemp -d)
trap 'umount "$tmp/ro" 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0
fail=0

check() {  # check NAME EXPECTED_EXIT COMMAND...
	name=$1 want=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" -eq "$want" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL $name: exit $got, want $want"
		sed 's/^/  out: /' "$tmp/out" | head -n 5
		sed 's/^/  err: /' "$tmp/err" | head -n 5
	fi
}

has() {  # has NAME FILE TEXT: FILE (out or err) contains TEXT
	if grep -q -- "$3" "$tmp/$2"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL $1: $2 lacks '$3'"
		sed 's/^/  /' "$tmp/$2" | head -n 5
	fi
}

lacks() {  # lacks NAME FILE TEXT: FILE (out or err) does not contain TEXT
	if grep -q -- "$3" "$tmp/$2"; then
		fail=$((fail + 1))
		echo "FAIL $1: $2 has '$3'"
	else
		pass=$((pass + 1))
	fi
}

for c in init append dump status verify repair compact project rebuild jobs show history stats audit timeline at import bench demo; do
	check "$c --help" 0 "$sl" "$c" --help
	has "$c --help says usage" out "usage: statelog $c"
	check "$c --bogus" 2 "$sl" "$c" --bogus-option
	# an option error: the usage lines and a hint, not the whole help
	has "$c --bogus: the hint" err "statelog $c --help"
	if [ "$(wc -l <"$tmp/err")" -le 6 ]; then pass=$((pass + 1)); else
		fail=$((fail + 1)); echo "FAIL $c --bogus: $(wc -l <"$tmp/err") lines on stderr"; fi
done
check "no command" 2 "$sl"
check "unknown command" 2 "$sl" frobnicate
has "unknown command named" err "frobnicate"
check "--version" 0 "$sl" --version
has "--version prints it" out "statelog "
check "--help" 0 "$sl" --help

log="$tmp/a.log"
check "init" 0 "$sl" init --log "$log"
has "init names the log" out "created log"
check "init again refused" 2 "$sl" init --log "$log"
check "verify empty" 0 "$sl" verify --log "$log"

printf '%s\n' \
	'{"job_id": "j1", "type": "job_created", "body": {"name": "Build", "total_sheets": 3}}' \
	'' \
	'{"job_id": "j1", "type": "sheet_started", "body": {"sheet_num": 1}}' \
	'{"job_id": "j2", "type": "job_created", "body": {"name": "Two", "total_sheets": 1}}' \
	>"$tmp/good.jsonl"
check "append" 0 "$sl" append --log "$log" <"$tmp/good.jsonl"
has "append reports seqs" out "seq 1-3"


printf '%s\n' \
	'{"job_id": "j1", "type": "sheet_started", "body": {"sheet_num": 2}}' \
	'{"job_id": "j1", "type": "sheet_started", "body": {"sheet_num": "two"}}' >"$tmp/bad.jsonl"
check "append malformed" 2 "$sl" append --log "$log" <"$tmp/bad.jsonl"
has "malformed line named" err "stdin:2"
printf '{"job_id": "j1", "type": "no_such_type"}\n' >"$tmp/bad2.jsonl"
check "append unknown type" 2 "$sl" append --log "$log" <"$tmp/bad2.jsonl"
printf '{"job_id": "j1", "type": \n' >"$tmp/bad3.jsonl"
check "append broken json" 2 "$sl" append --log "$log" <"$tmp/bad3.jsonl"
check "append empty input" 2 "$sl" append --log "$log" </dev/null
check "dump after refusals" 0 "$sl" dump --log "$log"
if [ "$(wc -l <"$tmp/out")" -eq 3 ]; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL nothing of a refused input was appended"; cat "$tmp/out"; fi

check "dump --json" 0 "$sl" dump --log "$log" --json
has "dump json" out '"type": "sheet_started"'
check "dump --job" 0 "$sl" dump --log "$log" --job j2
if [ "$(wc -l <"$tmp/out")" -eq 1 ]; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL dump --job j2 printed:"; cat "$tmp/out"; fi
check "dump --from --to" 0 "$sl" dump --log "$log" --from 2 --to 2
has "dump range" out "#2 "
check "dump --since future" 0 "$sl" dump --log "$log" --since 2999-01-01T00:00:00+00:00
if [ ! -s "$tmp/out" ]; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL dump --since future printed something"; fi
check "dump bad --from" 2 "$sl" dump --log "$log" --from abc
check "dump bad --since" 2 "$sl" dump --log "$log" --since yesterday
check "dump no log" 4 "$sl" dump --log "$tmp/nope"
check "verify sound" 0 "$sl" verify --log "$log"
has "verify counts" out "3 events"

# the rules of the model, as every call of the API is held to them: the
# whole input refused, the event, the field and the reason named
rlog="$tmp/rules.log"
"$sl" init --log "$rlog" >/dev/null
check "append: the rules' log" 0 "$sl" append --log "$rlog" <"$tmp/good.jsonl"
printf '%s\n' \
	'{"job_id": "j2", "type": "pid_set", "body": {"pid": 77}}' \
	'{"job_id": "ghost", "type": "sheet_started", "body": {"sheet_num": 1}}' >"$tmp/refused.jsonl"
check "append: an event of a job that does not exist" 4 "$sl" append --log "$rlog" <"$tmp/refused.jsonl"
has "append: the refused event named" err "event 2 (sheet_started) of job 'ghost': job_id: no job 'ghost'"
printf '%s\n' \
	'{"job_id": "j2", "type": "job_created", "body": {"name": "Again", "total_sheets": 1}}' >"$tmp/refused.jsonl"
check "append: a job created twice" 2 "$sl" append --log "$rlog" <"$tmp/refused.jsonl"
has "append: why" err "event 1 (job_created) of job 'j2'"
printf '%s\n' \
	'{"job_id": "j9", "type": "job_created", "body": {"name": "x", "total_sheets": 0}}' >"$tmp/refused.jsonl"
check "append: zero sheets" 2 "$sl" append --log "$rlog" <"$tmp/refused.jsonl"
has "append: the constraint named" err "total_sheets 0 is below 1"
printf '{"job_id":"j1","type":"pid_set","time_us":9223372036854775807,"body":{"pid":1}}\n' >"$tmp/refused.jsonl"
check "append: a time far ahead of the clock" 2 "$sl" append --log "$rlog" <"$tmp/refused.jsonl"
has "append: the time window named" err "more than a day ahead of the clock"
printf '%s\n' \
	'{"job_id": "j3", "type": "job_created", "body": {"name": "Three", "total_sheets": 1}}' \
	'{"job_id": "j3", "type": "job_created", "body": {"name": "Three", "total_sheets": 1}}' \
	>"$tmp/refused.jsonl"
check "append: each event checked against the ones before it" 2 "$sl" append --log "$rlog" \
	<"$tmp/refused.jsonl"
has "append: the second creation refused" err "event 2 (job_created) of job 'j3'"
check "append: --batch, the second commit refused" 2 "$sl" append --log "$rlog" --batch 1 \
	<"$tmp/refused.jsonl"
has "append: --batch says what was appended" err "the 1 before it were appended"

# compact: the segment being written packed too; the same events after
cp -r "$log" "$tmp/compact.log"
"$sl" dump --log "$tmp/compact.log" --json >"$tmp/before.json"
check "compact" 0 "$sl" compact --log "$tmp/compact.log"
has "compact reports sizes" out "segments .* -> .* bytes"
check "compact: verify after" 0 "$sl" verify --log "$tmp/compact.log"
"$sl" dump --log "$tmp/compact.log" --json >"$tmp/after.json"
if cmp -s "$tmp/before.json" "$tmp/after.json"; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL compact changed the events"; fi
check "compact: no such log" 4 "$sl" compact --log "$tmp/nope"

# a torn tail: reported, not damage
seg="$log/00000000000000000001.seg"
size=$(stat -c %s "$seg")
cp -r "$log" "$tmp/torn.log"
truncate -s $((size - 3)) "$tmp/torn.log/00000000000000000001.seg"
check "verify torn" 0 "$sl" verify --log "$tmp/torn.log"
has "verify reports torn" out "torn last commit"
# damage in the middle: exit 3, then repair
cp -r "$log" "$tmp/bad.log"
printf '\377' | dd of="$tmp/bad.log/00000000000000000001.seg" bs=1 seek=80 conv=notrunc 2>/dev/null
check "verify damaged" 3 "$sl" verify --log "$tmp/bad.log"
has "damage located" out "offset"
check "append to damaged refused" 3 "$sl" append --log "$tmp/bad.log" <"$tmp/good.jsonl"
check "repair" 0 "$sl" repair --log "$tmp/bad.log"
has "repair reports" out "repaired"
check "verify after repair" 0 "$sl" verify --log "$tmp/bad.log"
check "repair sound log" 0 "$sl" repair --log "$log"
has "repair leaves sound log" out "nothing changed"

# STATELOG_LOG finds the log
export STATELOG_LOG="$log"
check "log from environment" 0 "$sl" verify
unset STATELOG_LOG
check "demo" 0 "$sl" demo "$tmp/demo"
has "demo all good" out "All good"
has "demo writes the failed job's timeline" out "timeline.html (.* KB; open it in a browser)"
if [ -s "$tmp/demo/timeline.html" ]; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL the demo wrote no timeline page"; fi

# the demo's log: the dashboard commands, the audit, time travel
dl="$tmp/demo/demo.log"
check "jobs" 0 "$sl" jobs --log "$dl" --limit 3
job=$(awk 'NR == 2 { print $1 }' "$tmp/out")
has "jobs: how many were left off" out "more not shown: --limit 0 shows all"
check "jobs --limit 0" 0 "$sl" jobs --log "$dl" --limit 0
lacks "jobs --limit 0: all shown" out "more not shown"
all=$(($(wc -l <"$tmp/out") - 1))
check "jobs --limit 0 --json" 0 "$sl" jobs --log "$dl" --limit 0 --json
if [ "$(grep -o '"id":' "$tmp/out" | wc -l)" -eq "$all" ] && [ "$all" -gt 3 ]; then
	pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL jobs --limit 0: $all rows vs the JSON"; fi
check "jobs --limit -1 refused" 2 "$sl" jobs --log "$dl" --limit -1
check "jobs --json" 0 "$sl" jobs --log "$dl" --status running --json
check "jobs bad status" 2 "$sl" jobs --log "$dl" --status sleeping
check "show of no such job" 4 "$sl" show no-such-job --log "$dl"
has "show: the job named" err "statelog show: no job 'no-such-job'"
lacks "show: no internal call names" err "load:"
check "show" 0 "$sl" show "$job" --log "$dl"
has "show names the job" out "$job"
check "show unknown job" 4 "$sl" show no-such-job --log "$dl"
first=$("$sl" dump --log "$dl" --job "$job" --json | head -n 1 | sed 's/^{"seq": \([0-9]*\),.*/\1/')
check "show --at its creation" 0 "$sl" show "$job" --log "$dl" --seq "$first"
check "show --at before its creation" 4 "$sl" show "$job" --log "$dl" --at "#$((first - 1))"
check "show --at past the end" 2 "$sl" show "$job" --log "$dl" --seq 99999999
check "history" 0 "$sl" history "$job" --log "$dl" --limit 2
check "history sheet 0" 2 "$sl" history "$job" --log "$dl" --sheet 0
check "stats --json" 0 "$sl" stats "$job" --log "$dl" --json
has "stats keys" out "total_sheets"
check "audit" 0 "$sl" audit "$job" --log "$dl"
has "audit tells the creation" out "created \""
check "audit --full" 0 "$sl" audit "$job" --log "$dl" --full
has "audit --full lists the creation" out "job_created"
check "audit --json" 0 "$sl" audit "$job" --log "$dl" --json
check "timeline of the fleet" 0 "$sl" timeline --log "$dl" --html "$tmp/fleet.html" --quiet
if [ -s "$tmp/fleet.html" ] && [ -d "$tmp/fleet.jobs" ]; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL timeline of the fleet: no page or no job pages"; fi
check "audit --json" 0 "$sl" audit "$job" --log "$dl" --json
check "audit unknown job" 4 "$sl" audit no-such-job --log "$dl"
check "at" 0 "$sl" at --seq 100 --out "$tmp/at.db" --log "$dl"
if [ -s "$tmp/at.db" ]; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL at wrote no database"; fi
# an as-of database stays as of its point: read as it is, never caught up
check "at --seq 100" 0 "$sl" at --seq 100 --out "$tmp/at100.db" --log "$dl"
check "jobs on the as-of database" 0 "$sl" jobs --db "$tmp/at100.db" --log "$dl" --limit 0
check "project on the as-of database" 0 "$sl" project --db "$tmp/at100.db" --log "$dl"
has "project says it is left as it is" out "as-of database .* left as it is"
if [ "$(sqlite3 "$tmp/at100.db" "SELECT value FROM statelog_meta WHERE key = 'last_seq'")" = 100 ]; then
	pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL the as-of database moved from seq 100"; fi
# the way it was made, in --json: the demo's log is shorter than the
# 10,000 events between snapshot points, so replayed from its start; and no
# keyframe below 200,000 events
check "at --json" 0 "$sl" at --seq 6000 --out "$tmp/atj.db" --log "$dl" --json
has "at --json says the way" out '"made_from": "log"'
has "at --json has no keyframe" out '"keyframe_seq": null'
if [ ! -e "$tmp/demo/demo.db.keyframe" ]; then
	pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL a keyframe for a small log"; fi
check "at seq 0" 2 "$sl" at --seq 0 --out "$tmp/at0.db" --log "$dl"
check "at past the end" 2 "$sl" at --seq 99999999 --out "$tmp/at1.db" --log "$dl"
check "at without --out" 2 "$sl" at --seq 5 --log "$dl"
# an output chosen by the user never lands in the log directory: not over a
# segment, not beside one, not through a link or "..", for no command
dseg="$dl/00000000000000000001.seg"
dsum=$(cksum <"$dseg")
ls -A "$dl" >"$tmp/dl-files"
ln -s "$dl" "$tmp/dl-link"
ln -s "$dseg" "$tmp/seg-link"
check "at --out over a segment refused" 2 "$sl" at --seq 50 --out "$dseg" --log "$dl"
has "at --out refusal says why" err "inside the log directory"
check "at --out beside the segments refused" 2 "$sl" at --seq 5 --out "$dl/at.db" --log "$dl"
check "at --out the log directory refused" 2 "$sl" at --seq 5 --out "$dl" --log "$dl"
check "at --out through a linked directory refused" 2 "$sl" at --seq 5 --out "$tmp/dl-link/at.db" --log "$dl"
check "at --out through a link to a segment refused" 2 "$sl" at --seq 5 --out "$tmp/seg-link" --log "$dl"
check "at --out through .. refused" 2 "$sl" at --seq 5 --out "$tmp/demo/x/../demo.log/at.db" --log "$dl"
check "timeline --html in the log refused" 2 "$sl" timeline --html "$dl/t.html" --log "$dl"
check "timeline --html (fleet) in the log refused" 2 "$sl" timeline --html "$dl/fleet.html" --log "$dl"
check "rebuild --db in the log refused" 2 "$sl" rebuild --db "$dseg" --log "$dl"
check "project --db in the log refused" 2 "$sl" project --db "$dl/v.db" --log "$dl"
check "jobs --db in the log refused" 2 "$sl" jobs --db "$dl/v.db" --log "$dl"
check "audit --db in the log refused" 2 "$sl" audit "$job" --db "$dl/v.db" --log "$dl"
check "append --db in the log refused" 2 "$sl" append --db "$dl/v.db" --log "$dl" </dev/null
ls -A "$dl" >"$tmp/dl-files-after"
if [ "$(cksum <"$dseg")" = "$dsum" ] && cmp -s "$tmp/dl-files" "$tmp/dl-files-after"; then
	pass=$((pass + 1))
else
	fail=$((fail + 1)); echo "FAIL a refused output changed the log directory"
	diff "$tmp/dl-files" "$tmp/dl-files-after"
fi
check "project" 0 "$sl" project --log "$dl"
# a file that is not statelog's views is refused and left alone
printf 'notes, not a database\n' >"$tmp/notes.txt"
check "rebuild --db a text file refused" 3 "$sl" rebuild --log "$dl" --db "$tmp/notes.txt"
has "rebuild --db a text file: why" err "not an SQLite database at all"
if [ "$(cat "$tmp/notes.txt")" = "notes, not a database" ]; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL rebuild --db replaced a text file"; fi
check "rebuild" 0 "$sl" rebuild --log "$dl"
check "verify demo log" 0 "$sl" verify --log "$dl"

# out of memory (an address-space limit) is said as such: never as damage
# (exit 3, "does not decode"), never as an empty message.  The limit grows
# by 3% from where the program cannot even load until project succeeds, so
# that allocations fail at every stage in turn.  Not under AddressSanitizer,
# which needs terabytes of address space.
if ldd "$sl" 2>/dev/null | grep -q libasan; then
	echo "skipped: out of memory (AddressSanitizer)"
else
	mdb="$tmp/mem.db"
	v=2000 oom=0 bad=0
	while [ "$v" -lt 2000000 ]; do
		rm -f "$mdb" "$mdb"-*
		( ulimit -v "$v" && exec "$sl" project --log "$dl" --db "$mdb" ) >"$tmp/out" 2>"$tmp/err"
		got=$? at=$v
		[ "$got" -eq 0 ] && break
		v=$((v + v * 3 / 100))
		# the dynamic loader, before statelog runs
		[ "$got" -eq 127 ] && continue
		if grep -q 'statelog project: .*out of memory' "$tmp/err"; then oom=$((oom + 1)); fi
		if [ "$got" -eq 3 ] || grep -Eq 'decode|damage|corrupt|malformed|^statelog project: *$' "$tmp/err" ||
			! grep -q 'statelog project: .' "$tmp/err"; then
			bad=$((bad + 1))
			echo "FAIL out of memory at ulimit -v $at: exit $got"
			sed 's/^/  err: /' "$tmp/err" | head -n 3
		fi
	done
	if [ "$bad" -eq 0 ] && [ "$oom" -gt 0 ] && [ "$v" -lt 2000000 ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL out of memory: $bad runs misreported, $oom said out of memory, limit reached $v"
	fi
fi

# import: from JSON state files (no other tool needed to make a source)
check "import --help" 0 "$sl" import --help
has "import --help says usage" out "usage: statelog import"
check "import --bogus" 2 "$sl" import --bogus-option
check "import without a source" 2 "$sl" import --log "$tmp/imp.log"
check "import with both sources" 2 "$sl" import --log "$tmp/imp.log" --from-db "$tmp/x.db" --from-json "$tmp/x"
check "import stray operand" 2 "$sl" import --log "$tmp/imp.log" stray
check "import missing source" 4 "$sl" import --log "$tmp/imp.log" --from-db "$tmp/none.db"
mkdir "$tmp/states"
printf '%s\n' '{"job_id": "j1", "job_name": "One", "total_sheets": 2, "status": "running",' \
	' "created_at": "2026-01-01T00:00:00+00:00", "updated_at": "2026-01-01T00:05:00+00:00",' \
	' "sheets": {"1": {"status": "completed", "passed_validations": []}}}' >"$tmp/states/j1.json"
check "import json" 0 "$sl" import --log "$tmp/imp.log" --from-json "$tmp/states"
has "import reports" out "imported 1 jobs, 1 sheets"
has "import checked" out "answer as the source did"
check "import verify" 0 "$sl" verify --log "$tmp/imp.log"
check "import --db in the new log refused" 2 "$sl" import --log "$tmp/imp-in.log" \
	--db "$tmp/imp-in.log/v.db" --from-json "$tmp/states"
if [ ! -e "$tmp/imp-in.log" ]; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL a refused import made its log"; fi
check "import again refused" 2 "$sl" import --log "$tmp/imp.log" --from-json "$tmp/states"
has "import again says why" err "already exists"
# a FIFO among the state files is refused, not waited on
mkdir "$tmp/states-fifo"
cp "$tmp/states/j1.json" "$tmp/states-fifo/"
mkfifo "$tmp/states-fifo/pipe.json"
check "import: a FIFO among the state files" 2 timeout 10 "$sl" import --log "$tmp/imp-fifo.log" \
	--from-json "$tmp/states-fifo"
has "import: the FIFO named" err "pipe.json: a FIFO, not a regular file"
printf '{"job_id": "j2", "job_name": "Two", "total_sheets": 1, "created_at": "2026-01-01T00:00:00+00:00", "updated_at": "2026-01-01T00:00:00+00:00", "sheets": {"1": {"status": "lost"}}}\n' >"$tmp/bad-state.json"
check "import damaged" 3 "$sl" import --log "$tmp/imp2.log" --from-json "$tmp/bad-state.json"
has "import damaged names job and sheet" err "job 'j2', sheet 1: status"
if [ ! -e "$tmp/imp2.log" ] && [ ! -e "$tmp/imp2.db" ]; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL a damaged import left files behind"; ls -a "$tmp"; fi


# ---- bad input at the program's doors (issue 6; the C API's are in
# tests/campaign/test_bad_input.c).  Each has one clear outcome.
bl="$tmp/bad-input.log"
check "bad input: init" 0 "$sl" init --log "$bl"
jc() {  # jc ID [SHEETS]: a job_created line (ID already JSON-escaped)
	printf '{"job_id": "%s", "type": "job_created", "body": {"name": "x", "total_sheets": %s}}\n' "$1" "${2:-2}"
}
jc "" >"$tmp/in"
check "bad input: empty job id refused" 2 "$sl" append --log "$bl" <"$tmp/in"
has "bad input: empty job id named" err "job_id: must not be empty"
jc 'a\u0000b' >"$tmp/in"
check "bad input: NUL in a job id refused" 2 "$sl" append --log "$bl" <"$tmp/in"
has "bad input: NUL named" err "NUL"
odd='../x/\"q\" '"'"'; DROP TABLE jobs;--'
{ jc "$odd"; jc 'a/b'; jc 'C:\\jobs\\x'; } >"$tmp/in"
check "bad input: separators and quotes are plain data" 0 "$sl" append --log "$bl" <"$tmp/in"
check "bad input: project them" 0 "$sl" project --log "$bl"
check "bad input: show the odd id" 0 "$sl" show --log "$bl" "../x/\"q\" '; DROP TABLE jobs;--"
has "bad input: the odd id round-trips" out "DROP TABLE jobs;--"
check "bad input: the jobs table survives" 0 "$sl" jobs --log "$bl"
has "bad input: a/b listed" out "a/b"
if [ ! -e "$tmp/x" ] && [ ! -e "$bl/a" ]; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL a job id made a path"; fi
huge=$(head -c 1048576 /dev/zero | tr '\0' 'h')
jc "$huge" >"$tmp/in"
check "bad input: a 1 MiB job id" 0 "$sl" append --log "$bl" <"$tmp/in"
check "bad input: 1 MiB id projected" 0 "$sl" project --log "$bl"
# (an argument cannot hold 1 MiB: listed, not shown; the C test reads it back)
check "bad input: 1 MiB id listed" 0 "$sl" jobs --log "$bl"
has "bad input: 1 MiB id in the list" out "hhhhhhhhhhhhhhhh"
{ jc big 1; printf '{"job_id": "big", "type": "execution_recorded", "body": {"execution_id": 1, "sheet_num": 1, "attempt_num": 1, "prompt": "%s", "output": "o"}}\n' \
	"$(head -c 3145728 /dev/zero | tr '\0' 'p')"; } >"$tmp/in"
check "bad input: a 3 MiB prompt" 0 "$sl" append --log "$bl" <"$tmp/in"
printf '{"job_id": "big", "type": "execution_recorded", "body": {"execution_id": 2, "sheet_num": 1, "attempt_num": 2, "prompt": "%s", "output": "o"}}\n' \
	"$(head -c 17825792 /dev/zero | tr '\0' 'p')" >"$tmp/in"
check "bad input: a 17 MiB prompt is over the maximum event size" 2 "$sl" append --log "$bl" <"$tmp/in"
has "bad input: the maximum named" err "over the maximum"
for n in 0 -3; do
	printf '{"job_id": "big", "type": "sheet_started", "body": {"sheet_num": %s}}\n' "$n" >"$tmp/in"
	check "bad input: sheet $n refused at append" 2 "$sl" append --log "$bl" <"$tmp/in"
	has "bad input: sheet $n: why" err "sheet $n is below 1"
	# A program with the log API alone appends it: the rules refuse it
	# when projecting.
	check "bad input: sheet $n appended without the rules" 0 "$raw" "$bl" <"$tmp/in"
done
check "bad input: sheets outside the job refused by the rules" 0 "$sl" project --log "$bl"
has "bad input: refusals counted" out "refused by the rules of the model"
# sheet 5 of 1: the original makes its row
printf '{"job_id": "big", "type": "sheet_started", "body": {"sheet_num": 5}}\n' >"$tmp/in"
check "bad input: sheet 5 of 1 taken, as the original does" 0 "$sl" append --log "$bl" <"$tmp/in"
check "bad input: history --sheet 0" 2 "$sl" history --log "$bl" big --sheet 0
check "bad input: history --sheet -1" 2 "$sl" history --log "$bl" big --sheet -1
# The history is the original's free-form table: a sheet past the total
# is asked about as any other (sheet 5 was started above).
check "bad input: history --sheet past the total" 4 "$sl" history --log "$bl" big --sheet 5
printf '{"job_id": "big", "type": "from_a_newer_writer", "body": {}}\n' >"$tmp/in"
check "bad input: an unknown type name refused" 2 "$sl" append --log "$bl" <"$tmp/in"
printf '{"job_id": "big" "type": 1}\n' >"$tmp/in"
check "bad input: malformed JSON refused" 2 "$sl" append --log "$bl" <"$tmp/in"
has "bad input: malformed JSON located" err "line 1, column"
# terminal controls in what users wrote (ids, names, messages) reach no
# terminal: every text output escapes them as dump does (\x1b, \u009b)
ctl=$(printf '[\001-\010\013-\037\177]|\302[\200-\237]')
noctl() {  # noctl NAME FILE: FILE (out or err) holds no control character
	if LC_ALL=C grep -Eq "$ctl" "$tmp/$2"; then
		fail=$((fail + 1)); echo "FAIL $1: a raw control character in $2"
		od -c "$tmp/$2" | head -n 5
	else
		pass=$((pass + 1))
	fi
}
el="$tmp/escapes.log"
"$sl" init --log "$el" >/dev/null
printf '%s\n' \
	'{"job_id": "red\u001b[31m", "type": "job_created", "body": {"name": "N\u001b]0;owned\u0007\u009b2J\u007f", "total_sheets": 2}}' \
	'{"job_id": "red\u001b[31m", "type": "sheet_started", "body": {"sheet_num": 1}}' \
	'{"job_id": "red\u001b[31m", "type": "sheet_failed", "body": {"sheet_num": 1, "message": "boom\u001b[2J\r\u0085"}}' \
	'{"job_id": "red\u001b[31m", "type": "job_failed", "body": {"message": "gone\u001b[5m"}}' \
	>"$tmp/in"
check "escapes: append" 0 "$sl" append --log "$el" <"$tmp/in"
red=$(printf 'red\033[31m')
check "escapes: jobs" 0 "$sl" jobs --log "$el"
noctl "escapes: jobs" out
has "escapes: jobs shows the id escaped" out 'red\\x1b\[31m'
has "escapes: jobs shows a C1 escaped" out '\\u009b2J'
check "escapes: show" 0 "$sl" show "$red" --log "$el"
noctl "escapes: show" out
has "escapes: show shows the message escaped" out 'boom\\x1b\[2J\\r\\u0085'
check "escapes: history" 0 "$sl" history "$red" --log "$el"
noctl "escapes: history" out
check "escapes: stats" 0 "$sl" stats "$red" --log "$el"
noctl "escapes: stats" out
check "escapes: audit" 0 "$sl" audit "$red" --log "$el"
noctl "escapes: audit" out
check "escapes: audit --full" 0 "$sl" audit "$red" --full --log "$el"
noctl "escapes: audit --full" out
check "escapes: dump" 0 "$sl" dump --log "$el"
noctl "escapes: dump" out
check "escapes: an unknown id in an error" 4 "$sl" show "$(printf 'no\033[31m')" --log "$el"
noctl "escapes: the error message" err
has "escapes: the error names the id escaped" err 'no\\x1b\[31m'
check "escapes: timeline" 0 "$sl" timeline "$red" --html "$tmp/esc.html" --log "$el"
noctl "escapes: timeline" out
check "escapes: jobs --json keeps JSON's escapes" 0 "$sl" jobs --log "$el" --json
has "escapes: JSON escape" out 'red\\u001b\[31m'
# a database written by a newer view schema: rebuilt
if command -v sqlite3 >/dev/null; then
	sqlite3 "$tmp/bad-input.db" "UPDATE statelog_meta SET value = 99 WHERE key = 'views_version'"
	check "bad input: newer view schema" 0 "$sl" project --log "$bl"
	has "bad input: newer view schema rebuilt" out "rebuilt"
fi
# two writers: one that holds the log past the busy timeout is named, and
# nothing is appended; within the timeout, the append waits its turn
printf '{"job_id": "big", "type": "pid_set", "body": {"pid": 7}}\n' >"$tmp/in"
sh -c 'echo $$ >"$1/LOCK"; exec flock "$1" sleep 2' sh "$bl" &
holder=$!
sleep 0.5
check "bad input: a writer held past the busy timeout" 5 "$sl" append --busy-timeout 200 --log "$bl" <"$tmp/in"
has "bad input: the holder named" err "locked by another writer (pid $holder)"
has "bad input: the timeout named" err "busy timeout of 200 ms"
check "bad input: --busy-timeout 0 refused" 2 "$sl" append --busy-timeout 0 --log "$bl" <"$tmp/in"
check "bad input: the append waits for the other writer" 0 "$sl" append --log "$bl" <"$tmp/in"
wait "$holder"
check "bad input: the log verifies" 0 "$sl" verify --log "$bl"

# The first or the last segment deleted: damage, named, at every door.
if [ -n "$raw" ]; then
	ends="$tmp/ends.log"
	{
		printf '{"job_id": "e", "type": "job_created", "body": {"name": "E", "total_sheets": 2}}\n'
		i=0
		while [ $i -lt 300 ]; do
			printf '{"job_id": "e", "type": "pid_set", "body": {"pid": %d}}\n' $((i + 1))
			i=$((i + 1))
		done
	} >"$tmp/ends.jsonl"
	"$sl" init --log "$ends" >/dev/null
	"$raw" "$ends" 4096 <"$tmp/ends.jsonl" >/dev/null 2>&1
	check "ends: project" 0 "$sl" project --log "$ends"
	last=$(ls "$ends"/*.seg | tail -n 1)
	cp -r "$ends" "$tmp/ends-first.log"
	rm "$last" "${last%.seg}.idx"
	check "ends: verify of a log without its last segment" 3 "$sl" verify --log "$ends"
	has "ends: verify names the missing last segment" out "last segment is missing"
	check "ends: dump refuses" 3 "$sl" dump --log "$ends"
	check "ends: project refuses" 3 "$sl" project --log "$ends"
	rm "$tmp/ends-first.log/00000000000000000001.seg"
	check "ends: verify of a log without its first segment" 3 "$sl" verify --log "$tmp/ends-first.log"
	has "ends: verify names the missing first segment" out "first segment is missing"
	check "ends: a writer refuses" 3 "$sl" append --log "$tmp/ends-first.log" --db "$tmp/ends-first.db" <"$tmp/ends.jsonl"
fi

# A daemon keeps the backend open (as an orchestrator does) while the CLI's
# commands read and write the same log from other processes: each sees the
# other's writes, and every write is checked against them.
if [ -n "$daemon" ]; then
	dl="$tmp/daemon.log"
	mkfifo "$tmp/daemon.in"
	# daemon.out exists before the first ask(): the daemon's shell opens
	# it only once the fifo has a writer (exec 3> below), which a loaded
	# machine may schedule after ask() first reads it.
	: >"$tmp/daemon.out"
	"$daemon" "$dl" <"$tmp/daemon.in" >"$tmp/daemon.out" 2>"$tmp/daemon.err" &
	dpid=$!
	exec 3>"$tmp/daemon.in"
	asked=0
	ask() {  # ask LINE: the daemon's answer to LINE, in $reply
		echo "$1" >&3
		asked=$((asked + 1))
		n=0
		while [ "$(wc -l <"$tmp/daemon.out")" -le "$asked" ] && [ $n -lt 600 ]; do
			sleep 0.05
			n=$((n + 1))
		done
		reply=$(sed -n "$((asked + 1))p" "$tmp/daemon.out")
	}
	ask "save nightly 3"
	check_reply() {  # check_reply NAME TEXT
		case $reply in
		*"$2"*) pass=$((pass + 1)) ;;
		*) fail=$((fail + 1)); echo "FAIL $1: the daemon answered '$reply', want '$2'"
		   sed 's/^/  out: /' "$tmp/daemon.out"; sed 's/^/  err: /' "$tmp/daemon.err" ;;
		esac
	}
	check_reply "daemon: save" "ok nightly"
	ask "start nightly 1"
	check_reply "daemon: sheet 1 started" "ok nightly"
	check "daemon: show beside it" 0 "$sl" show nightly --log "$dl"
	has "daemon: show reads the daemon's write" out "running"
	printf '%s\n' '{"job_id": "nightly", "type": "sheet_completed", "body": {"sheet_num": 1}}' \
		'{"job_id": "nightly", "type": "sheet_started", "body": {"sheet_num": 2}}' >"$tmp/in"
	check "daemon: append beside it" 0 "$sl" append --log "$dl" <"$tmp/in"
	ask "show nightly"
	check_reply "daemon: sees the CLI's append" "ok nightly running current=2 last_completed=1"
	printf '%s\n' '{"job_id": "nightly", "type": "job_created", "body": {"name": "again", "total_sheets": 1}}' >"$tmp/in"
	check "daemon: a CLI event checked against the daemon's state" 2 "$sl" append --log "$dl" <"$tmp/in"
	ask "exec nightly 2"
	first=${reply#ok }
	printf '%s\n' '{"job_id": "nightly", "type": "execution_recorded", "body": {"sheet_num": 2, "attempt_num": 1, "execution_id": 1000}}' >"$tmp/in"
	check "daemon: the CLI records an execution" 0 "$sl" append --log "$dl" <"$tmp/in"
	ask "exec nightly 2"
	check_reply "daemon: execution ids after the CLI's" "ok 1001"
	case $first in
	''|*[!0-9]*) fail=$((fail + 1)); echo "FAIL daemon: first execution id '$first'" ;;
	*) pass=$((pass + 1)) ;;
	esac
	check "daemon: history beside it" 0 "$sl" history nightly --log "$dl"
	has "daemon: history has the CLI's execution" out "1000"
	exec 3>&-
	wait "$dpid"
	dst=$?
	if [ "$dst" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL daemon: exit $dst"; cat "$tmp/daemon.err"; fi
	check "daemon: the log verifies" 0 "$sl" verify --log "$dl"
	check "daemon: rebuild beside the views" 0 "$sl" rebuild --log "$dl" --db "$tmp/daemon-rebuilt.db"
fi

# Views that cannot be written (a read-only mount; a directory without write
# permission for a user other than root): the reading commands answer from
# a private copy, caught up with the log, and leave the original and the
# temporary directory as they were; the commands that write the views fail.
ro="$tmp/ro"
mkdir "$ro"
mounted=
if [ "$(id -u)" -eq 0 ]; then
	mount -t tmpfs -o size=16m tmpfs "$ro" 2>/dev/null && mounted=1
fi
if [ "$(id -u)" -ne 0 ] || [ -n "$mounted" ]; then
	rl="$ro/r.log"
	"$sl" init --log "$rl" >/dev/null
	"$sl" append --log "$rl" <"$tmp/good.jsonl" >/dev/null
	"$sl" project --log "$rl" >/dev/null
	# one more event the views have not seen yet
	printf '{"job_id": "j1", "type": "sheet_started", "body": {"sheet_num": 2}}\n' |
		"$sl" append --log "$rl" >/dev/null
	# what a writable copy answers (catching its views up)
	cp -R "$ro" "$tmp/ro-copy"
	"$sl" jobs --log "$tmp/ro-copy/r.log" --json >"$tmp/ro-before"
	sum=$(cksum <"$ro/r.db")
	if [ -n "$mounted" ]; then
		mount -o remount,ro "$ro"
	else
		chmod -R a-w "$ro"
	fi
	priv="$tmp/privtmp"
	mkdir "$priv"
	check "read-only: jobs" 0 env TMPDIR="$priv" "$sl" jobs --log "$rl" --json
	if cmp -s "$tmp/out" "$tmp/ro-before"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL read-only: jobs answers as it did on the writable copy"
	fi
	check "read-only: show sees the event the views lacked" 0 env TMPDIR="$priv" \
		"$sl" show j1 --log "$rl"
	has "read-only: show caught up" out "sheet 2 current"
	check "read-only: show --at" 0 env TMPDIR="$priv" "$sl" show j1 --seq 1 --log "$rl"
	check "read-only: audit" 0 env TMPDIR="$priv" "$sl" audit j1 --log "$rl"
	has "read-only: audit lists the last event" out "#4"
	check "read-only: at" 0 env TMPDIR="$priv" "$sl" at --seq 2 --out "$tmp/ro-at.db" --log "$rl"
	check "read-only: no room for a private copy" 1 env TMPDIR="$tmp/none" \
		"$sl" jobs --log "$rl"
	has "read-only: no room for a private copy said" err "no private copy can be made"
	check "read-only: at never replaces the views" 2 env TMPDIR="$priv" \
		"$sl" at --seq 1 --out "$ro/r.db" --log "$rl"
	has "read-only: at says why" err "would replace the live views"
	check "read-only: project refused" 1 "$sl" project --log "$rl"
	check "read-only: verify" 0 "$sl" verify --log "$rl"
	if [ "$(cksum <"$ro/r.db")" = "$sum" ] && [ -z "$(ls -A "$priv")" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL read-only: the original database changed or a private copy was left behind"
		ls -A "$priv"
	fi
	if [ -n "$mounted" ]; then
		umount "$ro"
	else
		chmod -R u+w "$ro"
	fi
else
	echo "skipped: read-only views (root, and mounting a tmpfs is not permitted)"
fi

# ---- following a log: project --follow and dump --follow --------------------
# Each is woken by the file system when another process appends, keeps up
# through a writer's segment rolls, and ends with exit 0 on SIGTERM.  The
# waits below bound a hang; they time nothing.
fl="$tmp/follow.log"
"$sl" init --log "$fl" >/dev/null
printf '{"job_id": "f0", "type": "job_created", "body": {"name": "F", "total_sheets": 1}}\n' |
	"$sl" append --log "$fl" --db "$tmp/follow-writer.db" >/dev/null
"$sl" project --log "$fl" --db "$tmp/follow.db" --follow >"$tmp/follow.out" 2>&1 &
fpid=$!
"$sl" dump --log "$fl" --follow >"$tmp/dump-follow.out" 2>&1 &
dpid=$!
# wait_rows N: until the followed database holds N jobs (at most 20 s)
wait_rows() {
	i=0
	while [ "$(sqlite3 "$tmp/follow.db" 'SELECT count(*) FROM jobs' 2>/dev/null)" != "$1" ] &&
		[ $i -lt 200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(sqlite3 "$tmp/follow.db" 'SELECT count(*) FROM jobs' 2>/dev/null)" = "$1" ]
}
if wait_rows 1; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL project --follow: the first catch-up"; fi
for n in 1 2 3; do
	printf '{"job_id": "f%s", "type": "job_created", "body": {"name": "F", "total_sheets": 1}}\n' "$n" |
		"$sl" append --log "$fl" --db "$tmp/follow-writer.db" >/dev/null
done
if wait_rows 4; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL project --follow: appends of another process not followed"; fi
# a writer that rolls segments (4 KiB) while it appends
{ i=4; while [ $i -lt 64 ]; do
	printf '{"job_id": "f%s", "type": "job_created", "body": {"name": "%s", "total_sheets": 1}}\n' \
		"$i" "$(head -c 300 /dev/zero | tr '\0' 'n')"; i=$((i + 1)); done; } >"$tmp/roll.jsonl"
check "a writer rolling 4 KiB segments" 0 "$raw" "$fl" 4096 <"$tmp/roll.jsonl"
if [ "$(ls "$fl"/*.seg | wc -l)" -gt 3 ]; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL the writer did not roll its segments"; fi
if wait_rows 64; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL project --follow: lost track across the appends"; fi
# a writer that packs the segment it wrote as it closes (3,000 events, more
# than 256 KiB raw: a new file renamed over the one the followers read),
# then another that appends to the new file
awk 'BEGIN { for (i = 0; i < 3000; i++)
	printf "{\"job_id\": \"p%d\", \"type\": \"job_created\", \"body\": {\"name\": \"%080d\", \"total_sheets\": 1}}\n", i, i }' \
	>"$tmp/pack.jsonl"
check "a writer packing at close" 0 "$sl" append --log "$fl" --db "$tmp/follow-writer.db" --quiet <"$tmp/pack.jsonl"
check "status: packed at close" 0 "$sl" status --log "$fl"
has "status: packed at close" out "every commit is packed"
printf '%s\n' '{"job_id": "after-pack", "type": "job_created", "body": {"name": "A", "total_sheets": 1}}' |
	"$sl" append --log "$fl" --db "$tmp/follow-writer.db" >/dev/null
if wait_rows 3065; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL project --follow: lost track when the segment was packed"; fi
kill -TERM "$fpid" "$dpid"
wait "$fpid"; frc=$?
wait "$dpid"; drc=$?
if [ "$frc" -eq 0 ] && [ "$drc" -eq 0 ]; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL --follow: SIGTERM ends with exit 0 (project $frc, dump $drc)"; fi
if [ "$(grep -c job_created "$tmp/dump-follow.out")" -eq 3065 ]; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL dump --follow: $(grep -c job_created "$tmp/dump-follow.out") of 3065 events"; fi
if [ "$(sort -u "$tmp/dump-follow.out" | grep -c job_created)" -eq 3065 ]; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL dump --follow: an event printed twice"; fi
has "project --follow says what it applied" follow.out "applied"

# ---- --json, --quiet, one time syntax, #N ----
jl=$tmp/json.log
jsonok() {  # jsonok NAME KEY: stdout is one JSON object per line, each with KEY
	if python3 -c 'import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
assert lines and all(sys.argv[2] in json.loads(l) for l in lines)' "$tmp/out" "$2" 2>/dev/null
	then pass=$((pass + 1)); else
		fail=$((fail + 1)); echo "FAIL $1: not JSON with \"$2\""; sed 's/^/  /' "$tmp/out" | head -n 3; fi
}
silent() {  # silent NAME: nothing on stdout
	if [ -s "$tmp/out" ]; then fail=$((fail + 1)); echo "FAIL $1: printed"; head -n 3 "$tmp/out"
	else pass=$((pass + 1)); fi
}
check "init --json" 0 "$sl" init --log "$jl" --json
jsonok "init --json" log_id
printf '%s\n' '{"job_id": "q1", "type": "job_created", "body": {"name": "Q", "total_sheets": 3}}' \
	'{"job_id": "q1", "type": "sheet_started", "body": {"sheet_num": 1}}' >"$tmp/q.jsonl"
check "append --json" 0 "$sl" append --log "$jl" --json <"$tmp/q.jsonl"
jsonok "append --json" last_seq
has "append --json: the seqs" out '"first_seq": 1, "last_seq": 2'
printf '%s\n' '{"job_id": "q2", "type": "job_created", "body": {"name": "Q", "total_sheets": 1}}' >"$tmp/q2.jsonl"
check "append --quiet" 0 "$sl" append --log "$jl" --quiet <"$tmp/q2.jsonl"
silent "append --quiet"
for c in verify compact repair project rebuild; do
	check "$c --json" 0 "$sl" $c --log "$jl" --json
	jsonok "$c --json" log
	check "$c --quiet" 0 "$sl" $c --log "$jl" --quiet
	silent "$c --quiet"
done
cp -r "$jl" "$tmp/bad2.log"
printf '\377' | dd of="$tmp/bad2.log/00000000000000000001.seg" bs=1 seek=80 conv=notrunc 2>/dev/null
check "verify --json damaged" 3 "$sl" verify --log "$tmp/bad2.log" --json
jsonok "verify --json damaged" damage
has "verify --json damaged: not sound" out '"sound": false'
check "verify --quiet damaged" 3 "$sl" verify --log "$tmp/bad2.log" --quiet
has "verify --quiet still names the damage" out "DAMAGED"
check "at --json" 0 "$sl" at --log "$jl" --seq '#2' --out "$tmp/q-at.db" --json
jsonok "at --json" snapshot_seq
has "at #2" out '"seq": 2'
check "at --quiet" 0 "$sl" at --log "$jl" --time now --out "$tmp/q-at2.db" --quiet
silent "at --quiet"
check "timeline --quiet" 0 "$sl" timeline q1 --log "$jl" --html "$tmp/q1.html" --quiet
silent "timeline --quiet"
check "project --json of an as-of database" 0 "$sl" project --log "$jl" --db "$tmp/q-at.db" --json
has "project --json: as_of" out '"as_of": 2'
check "--json and --quiet on a usage error" 2 "$sl" verify --log "$jl" --json extra
# one time syntax: a bare number is refused, with the reason
for c in "dump --since 5" "dump --until 5" "jobs --since 5" "audit q1 --since 5" "show q1 --at 5"; do
	check "$c: a bare number is no time" 2 "$sl" $c --log "$jl"
	has "$c: says why" err "sequence number"
done
check "at --time 5" 2 "$sl" at --log "$jl" --time 5 --out "$tmp/q5.db"
has "at --time 5: says why" err "sequence number"
check "show --at yesterday" 2 "$sl" show q1 --log "$jl" --at yesterday
has "show --at yesterday: the forms" err "1h30m"
lacks "show --at yesterday: one message" err "bad value"
for t in now -1h30m -1w 2026-01-01 2026-01-01T10:00:00 2026-01-01T10:00:00+05:30; do
	check "dump --until $t" 0 "$sl" dump --log "$jl" --until "$t"
done
check "show --at now" 0 "$sl" show q1 --log "$jl" --at now
check "show --seq 2" 0 "$sl" show q1 --log "$jl" --seq 2
has "show --seq 2: sheet 1 started" out "in_progress"
check "show --at '#1'" 0 "$sl" show q1 --log "$jl" --at '#1'
lacks "show --at '#1': before sheet 1" out "in_progress"
check "show --at and --seq" 2 "$sl" show q1 --log "$jl" --at '#1' --seq 2
check "show --seq 0" 2 "$sl" show q1 --log "$jl" --seq 0
check "dump --from '#2'" 0 "$sl" dump --log "$jl" --from '#2'
has "dump --from '#2'" out "#2 "
lacks "dump --from '#2': not #1" out "#1 "
check "audit --to '#1'" 0 "$sl" audit q1 --log "$jl" --to '#1' --full
# the same situation, the same exit code: a sheet the job never had
check "history --sheet of no sheet" 4 "$sl" history q1 --log "$jl" --sheet 7
check "audit --sheet of no sheet" 4 "$sl" audit q1 --log "$jl" --sheet 7
# a missing log is named once
check "jobs, no log" 4 "$sl" jobs --log "$tmp/none.log"
if [ "$(grep -o "none.log" "$tmp/err" | wc -l)" -eq 1 ]; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL jobs, no log: the path said twice: $(cat "$tmp/err")"; fi

# ---- status ----
check "status" 0 "$sl" status --log "$jl"
has "status: the last event" out "#1\.\.#3"
has "status: the views" out "caught up"
check "status --json" 0 "$sl" status --log "$jl" --json
jsonok "status --json" unpacked_bytes
has "status --json: the ends" out '"first_seq": 1, "last_seq": 3'
printf '%s\n' '{"job_id": "q3", "type": "job_created", "body": {"name": "Q", "total_sheets": 1}}' |
	"$sl" append --log "$jl" --db "$tmp/elsewhere.db" --quiet
check "status: views behind" 0 "$sl" status --log "$jl"
has "status: views behind" out "1 event(s) behind"
has "status: not packed" out "commit(s) stored raw"
check "status: an as-of database" 0 "$sl" status --log "$jl" --db "$tmp/q-at.db"
has "status: an as-of database" out "as-of database, at #2"
check "status: no views" 0 "$sl" status --log "$jl" --db "$tmp/none.db"
has "status: no views" out "none yet"
check "status: another log's views" 0 "$sl" status --log "$jl" --db "$dl/../$(basename "$dl" .log).db"
check "status: a torn tail" 0 "$sl" status --log "$tmp/torn.log"
has "status: a torn tail" out "torn"
cp -r "$jl" "$tmp/sbad.log"
printf '\377' | dd of="$tmp/sbad.log/00000000000000000001.seg" bs=1 seek=66 conv=notrunc 2>/dev/null
check "status: damage" 3 "$sl" status --log "$tmp/sbad.log"
has "status: damage named" out "DAMAGED"
check "status: no log" 4 "$sl" status --log "$tmp/none.log"
check "status: extra argument" 2 "$sl" status --log "$jl" extra

# ---- JSON only Python reads (issue 11): NaN, integers beyond 64 bits, lone
# surrogates are the original's values inside a JSON document; each comes
# back as it went in.  Outside a JSON document they are refused, named.
pl="$tmp/py.log"
check "python json: init" 0 "$sl" init --log "$pl" --quiet
printf '%s\n' '{"job_id": "p", "type": "job_created", "body": {"name": "p", "total_sheets": 1, "config_snapshot": {"v": NaN, "big": 1180591620717411303424, "s": "\udc80", "i": -Infinity}}}' >"$tmp/in"
check "python json: append" 0 "$sl" append --log "$pl" <"$tmp/in"
check "python json: show" 0 "$sl" show --log "$pl" p --json
has "python json: kept" out '"config_snapshot": {"v": NaN, "big": 1180591620717411303424, "s": "\\udc80", "i": -Infinity}'
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); c=d["config_snapshot"]; assert c["v"]!=c["v"] and c["big"]==2**70 and c["s"]=="\udc80" and c["i"]==float("-inf")' "$tmp/out"; then
	pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL python json: Python reads the values back"; fi
printf '%s\n' '{"job_id": "q", "type": "job_created", "body": {"name": NaN, "total_sheets": 1}}' >"$tmp/in"
check "python json: NaN as a name refused" 2 "$sl" append --log "$pl" <"$tmp/in"
has "python json: NaN named" err "body.name: expected a string, got a non-finite number"
printf '%s\n' '{"job_id": "q", "type": "job_created", "body": {"name": "q", "total_sheets": 18446744073709551616}}' >"$tmp/in"
check "python json: a total beyond 64 bits refused" 2 "$sl" append --log "$pl" <"$tmp/in"
has "python json: the total named" err "body.total_sheets: expected an integer, got a number out of range"
printf '%s\n' '{"job_id": "q", "type": "job_created", "body": {"name": "q", "total_sheets": 1, "config_snapshot": {"a": NaN, "b": nan}}}' >"$tmp/in"
check "python json: not even Python's refused" 2 "$sl" append --log "$pl" <"$tmp/in"
has "python json: where Python stops" err "column 118: invalid token near 'nan'"

# ---- a write into the views by another program (issue 11): the sqlite3
# shell changes a row; the next command notices it (one row read), says so,
# and re-derives the views from the log.
fw="$tmp/foreign.log"
check "foreign write: init" 0 "$sl" init --log "$fw" --quiet
jc fw 2 >"$tmp/in"
check "foreign write: append" 0 "$sl" append --log "$fw" --quiet <"$tmp/in"
check "foreign write: jobs" 0 "$sl" jobs --log "$fw"
lacks "foreign write: no warning before" err "warning"
sqlite3 "$tmp/foreign.db" "UPDATE jobs SET status = 'failed', total_sheets = 9 WHERE id = 'fw'"
check "foreign write: jobs after it" 0 "$sl" jobs --log "$fw"
has "foreign write: said" err "warning: .*foreign.db: 1 row change(s) in it were written by another program"
has "foreign write: the log's state" out "pending .* 0/2"
lacks "foreign write: not the foreign row" out "failed"
check "foreign write: jobs again" 0 "$sl" jobs --log "$fw"
lacks "foreign write: said once" err "warning"
sqlite3 "$tmp/foreign.db" "DELETE FROM statelog_events; INSERT INTO sheets (job_id, sheet_num, status) VALUES ('fw', 1, 'completed')"
check "foreign write: project" 0 "$sl" project --log "$fw"
has "foreign write: project says it" out "rebuilt .*row change(s) in it were written by another program"
if [ "$(sqlite3 "$tmp/foreign.db" "SELECT count(*) FROM sheets")|$(sqlite3 "$tmp/foreign.db" "SELECT count(*) FROM statelog_events")" = "0|1" ]; then
	pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL foreign write: the views are the log's again"; fi
check "foreign write: show" 0 "$sl" show --log "$fw" fw
sqlite3 "$tmp/foreign.db" "UPDATE sheets SET status = 'failed'"
check "foreign write: a write changing no row goes unsaid" 0 "$sl" show --log "$fw" fw
lacks "foreign write: nothing to say" err "warning"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
