#!/bin/sh
# timeline_test.sh STATELOG SOURCE_ROOT BUILD_DIR: `statelog timeline` and
# `statelog audit` as a user runs them, and the page rendered in a real
# browser (headless Chromium, tools/scripts/install-deps.sh installs it).
#
# A log made of tests/tools/timeline_story.jsonl (a job that fails and
# retries a sheet, skips one, is paused, resumed, recovered as a zombie,
# reconfigured, refused an event, deleted and created again; and another
# job) and of a generated job (tools/bench/timeline_job.py).  For each job
# page the browser runs the script, and tests/tools/timeline_check.py
# compares the lanes, bars, records and marks drawn with the log, and the
# page's time travel with `statelog show --seq SEQ --json` at every event of
# the first job.  The screenshots stay in BUILD_DIR (timeline-test.png,
# timeline-fleet-test.png).  Without a browser the test fails: it does not
# skip.  Prints "N passed, N failed".
set -u
sl=$1
src=$2
out=$3
raw=$4   # tests/tools/raw_append: the log API alone, no rules
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
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

lacks() {  # lacks NAME FILE TEXT
	if grep -q -- "$3" "$tmp/$2"; then
		fail=$((fail + 1))
		echo "FAIL $1: $2 has '$3'"
		grep -- "$3" "$tmp/$2" | head -n 3 | sed 's/^/  /'
	else
		pass=$((pass + 1))
	fi
}

finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit $?
}

# pycheck NAME ARGS...: timeline_check.py, its findings counted here
pycheck() {
	name=$1
	shift
	python3 "$src/tests/tools/timeline_check.py" "$@" >"$tmp/py" 2>&1
	p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$tmp/py")
	f=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$tmp/py")
	if [ -z "$p" ]; then
		fail=$((fail + 1))
		echo "FAIL $name: the check did not run"
		head -n 20 "$tmp/py"
		return
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	grep '^FAIL' "$tmp/py" | sed "s/^FAIL /FAIL $name: /" | head -n 20
}

browser=${CHROMIUM:-}
[ -n "$browser" ] || browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
	echo "FAIL no browser: chromium is not installed (sh tools/scripts/install-deps.sh installs it)"
	fail=$((fail + 1))
	finish
fi

# render FILE_URL [FLAGS...]: the browser, headless, on a fresh profile and
# without any network; --dump-dom writes the DOM after the script ran.
render() {
	url=$1
	shift
	rm -rf "$tmp/profile" && mkdir "$tmp/profile"
	timeout 180 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$tmp/profile" --window-size=1400,1600 "$@" "$url" 2>>"$tmp/browser.err"
}

dom() {  # dom FILE_URL OUT: the DOM after the script, or a failure
	if render "$1" --dump-dom >"$2" && grep -q 'data-ready-ms=' "$2"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL the browser did not render $1 (or its script failed)"
		tail -n 5 "$tmp/browser.err" | sed 's/^/  /'
	fi
}

log="$tmp/t.log"
check "init" 0 "$sl" init --log "$log"
# The story holds one event the rules refuse (line 23, sheet 0): `statelog
# append` refuses it, so it goes in as a program with the log API alone
# would write it, between the rest.
story="$src/tests/tools/timeline_story.jsonl"
sed -n 1,22p "$story" >"$tmp/story1"
sed -n 23p "$story" >"$tmp/story2"
sed -n '24,$p' "$story" >"$tmp/story3"
check "append the story" 0 "$sl" append --log "$log" <"$tmp/story1"
check "append: the refused event is refused" 2 "$sl" append --log "$log" <"$tmp/story2"
check "the refused event, without the rules" 0 "$raw" "$log" <"$tmp/story2"
check "append the rest of the story" 0 "$sl" append --log "$log" <"$tmp/story3"
# after the story: 2026-11-26T12:00:00Z on
python3 "$src/tools/bench/timeline_job.py" --job generated --sheets 60 --events 300 \
	--start-us 1795694400000000 >"$tmp/gen.jsonl" 2>/dev/null
check "append a generated job" 0 "$sl" append --log "$log" <"$tmp/gen.jsonl"

# ---- the audit ------------------------------------------------------------
check "audit" 0 "$sl" audit nightly --log "$log"
has "audit: the creation" out 'created "Nightly build": 3 sheets'
lacks "audit: no row-by-row creation" out "(no row)"
has "audit: the failure, its category, exit code, duration and message" out \
	"attempt 1 failed \[transient\] after 118.0 s, exit 1 (error): Transient backend error"
has "audit: the execution record" out "attempt 1 recorded (record 1): exit 1, 118.0 s, prompt \"Build"
has "audit: the pause" out "paused (job running -> paused): operator asked"
has "audit: the zombie" out "zombie recovered: pid 5151 gone; job running -> paused"
has "audit: the refused event" out "sheet_started refused by the rules"
has "audit: the delete" out "deleted (life 1 ends)"
has "audit: created again" out "created again \"Nightly build\": 2 sheets (life 2)"
lacks "audit: the re-stamping save is not a change" out "#9 "
check "audit --full" 0 "$sl" audit nightly --log "$log" --full
has "audit --full: every column" out "total_retry_count"
lacks "audit --full: the re-stamp is not a change" out "10:00:01.999997"
check "audit --json" 0 "$sl" audit nightly --log "$log" --json
if [ "$(wc -l <"$tmp/out")" -eq 22 ]; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL audit --json: $(wc -l <"$tmp/out") lines, want 22"; fi
has "audit --json: the re-stamp apart" out '"restamped": \[{"row": "job", "column": "started_at"'
has "audit --json: the story" out '"story": "attempt 2 completed in 175.5 s"'
has "audit --json: the record's body" out '"body": {"execution_id": 2, "sheet_num": 1, "attempt_num": 2'
check "audit --sheet 2" 0 "$sl" audit nightly --log "$log" --sheet 2
has "audit --sheet 2: its skip" out "skipped: not needed tonight"
lacks "audit --sheet 2: no other sheet" out "sheet 1 "
check "audit --sheet 2 --full" 0 "$sl" audit nightly --log "$log" --sheet 2 --full
lacks "audit --sheet 2 --full: no other sheet" out "sheet 1 "
check "audit --sheet 2 --json" 0 "$sl" audit nightly --log "$log" --sheet 2 --json
lacks "audit --sheet 2 --json: no other sheet" out '"sheet": 1,'
check "audit --from --to" 0 "$sl" audit nightly --log "$log" --from 16 --to 18
has "audit --from --to: in range" out "#17 "
lacks "audit --from --to: out of range" out "#15 "
check "audit --since --until" 0 "$sl" audit nightly --log "$log" --since 2026-11-26T10:06:00Z \
	--until 2026-11-26T10:20:00Z --full
has "audit --since --until: in range" out "job_resumed"
lacks "audit --since --until: out of range" out "job_created"
check "audit --sheet 7 (the job never had it)" 4 "$sl" audit nightly --log "$log" --sheet 7
has "audit --sheet 7 says so" err "has no sheet 7"
check "audit --sheet of the other job" 4 "$sl" audit other --log "$log" --sheet 3
check "audit --full --json" 2 "$sl" audit nightly --log "$log" --full --json

# ---- the command's errors ----------------------------------------------------
check "timeline --help" 0 "$sl" timeline --help
has "timeline --help lists exit codes" out "Exit codes: 0"
check "timeline without --html" 2 "$sl" timeline nightly --log "$log"
check "timeline, two jobs" 2 "$sl" timeline nightly other --log "$log" --html "$tmp/x.html"
check "timeline --bogus" 2 "$sl" timeline --bogus --log "$log" --html "$tmp/x.html"
check "timeline of an unknown job" 4 "$sl" timeline no-such-job --log "$log" --html "$tmp/x.html"
has "timeline of an unknown job says so" err "no job 'no-such-job'"
: >"$tmp/afile"
check "timeline into an unwritable place" 1 "$sl" timeline nightly --log "$log" \
	--html "$tmp/afile/page.html"
has "timeline names the file and the cause" err "afile/page.html.tmp: Not a directory"
check "fleet into an unwritable place" 1 "$sl" timeline --log "$log" --html "$tmp/afile/fleet.html"
check "timeline of a missing log" 4 "$sl" timeline nightly --log "$tmp/nolog.log" --html "$tmp/x.html"

# ---- the pages in the browser -------------------------------------------------
check "timeline nightly" 0 "$sl" timeline nightly --log "$log" --html "$tmp/nightly.html"
has "timeline says where" out "wrote $tmp/nightly.html"
for u in http:// https:// "src=\"//" "@import" "url("; do
	if grep -q -- "$u" "$tmp/nightly.html"; then
		fail=$((fail + 1)); echo "FAIL the page refers to the network: $u"
	else
		pass=$((pass + 1))
	fi
done
"$sl" audit nightly --log "$log" --json >"$tmp/nightly.audit"
dom "file://$tmp/nightly.html" "$tmp/nightly.dom"
pycheck "nightly drawn" drawn "$tmp/nightly.dom" "$tmp/nightly.audit"
# The story's expectations, written out: 3 bars of sheet 1 (failed,
# completed; completed in life 2), sheet 2 skipped then running, sheet 3
# interrupted by the delete, 2 records, 7 marks.
for want in 'data-sheet="1" data-attempt="1" data-outcome="failed"' \
	'data-sheet="2" data-attempt="0" data-outcome="skipped"' \
	'data-sheet="2" data-attempt="1" data-outcome="running"' \
	'data-sheet="3" data-attempt="1" data-outcome="interrupted"'; do
	has "nightly: $want" nightly.dom "$want"
done
if [ "$(grep -o 'class="bar ' "$tmp/nightly.dom" | wc -l)" -eq 6 ] &&
   [ "$(grep -o 'class="mark"' "$tmp/nightly.dom" | wc -l)" -eq 7 ]; then
	pass=$((pass + 1))
else
	fail=$((fail + 1)); echo "FAIL nightly: want 6 bars and 7 marks"
fi

# Time travel at every event of the job, in one run of the browser.
seqs=$(sed -n 's/^{"seq": \([0-9]*\),.*/\1/p' "$tmp/nightly.audit" | tr '\n' ' ')
mkdir "$tmp/show"
for q in $seqs 2; do
	if "$sl" show nightly --log "$log" --seq "$q" --json >"$tmp/show/$q.json" 2>/dev/null; then :; else
		rm -f "$tmp/show/$q.json"
	fi
done
list=$(echo $seqs 2 | tr ' ' ',')
sed "s|</body>|<script>var o = {}; [$list].forEach(function (q) { o[q] = slTimeline.at(q); }); var p = document.createElement('pre'); p.id = 'tt-out'; p.textContent = JSON.stringify(o); document.body.appendChild(p);</script></body>|" \
	"$tmp/nightly.html" >"$tmp/nightly-tt.html"
dom "file://$tmp/nightly-tt.html" "$tmp/nightly-tt.dom"
pycheck "nightly time travel" travel "$tmp/nightly-tt.dom" "$tmp/show"

# Opened at #at=SEQ, as a link from the fleet does.
dom "file://$tmp/nightly.html#at=7" "$tmp/nightly-7.dom"
pycheck "nightly #at=7" hash "$tmp/nightly-7.dom" "$tmp/show/7.json"
render "file://$tmp/nightly.html#at=7" --screenshot="$out/timeline-test.png" >/dev/null
if [ -s "$out/timeline-test.png" ]; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL no screenshot at $out/timeline-test.png"; fi

# The generated job: 60 sheets, retries, saves that re-stamp.
check "timeline generated" 0 "$sl" timeline generated --log "$log" --html "$tmp/gen.html"
"$sl" audit generated --log "$log" --json >"$tmp/gen.audit"
dom "file://$tmp/gen.html" "$tmp/gen.dom"
pycheck "generated drawn" drawn "$tmp/gen.dom" "$tmp/gen.audit"
mkdir "$tmp/gshow"
for q in 29 100 181 250 328; do
	"$sl" show generated --log "$log" --seq "$q" --json >"$tmp/gshow/$q.json" 2>/dev/null ||
		rm -f "$tmp/gshow/$q.json"
done
sed "s|</body>|<script>var o = {}; [29,100,181,250,328].forEach(function (q) { o[q] = slTimeline.at(q); }); var p = document.createElement('pre'); p.id = 'tt-out'; p.textContent = JSON.stringify(o); document.body.appendChild(p);</script></body>|" \
	"$tmp/gen.html" >"$tmp/gen-tt.html"
dom "file://$tmp/gen-tt.html" "$tmp/gen-tt.dom"
pycheck "generated time travel" travel "$tmp/gen-tt.dom" "$tmp/gshow"

# The fleet: every job, each linking to its page.
check "timeline (the fleet)" 0 "$sl" timeline --log "$log" --html "$tmp/fleet.html"
has "the fleet says where" out "fleet.jobs/"
dom "file://$tmp/fleet.html" "$tmp/fleet.dom"
pycheck "fleet" fleet "$tmp/fleet.dom" "$tmp" nightly other generated
dom "file://$tmp/fleet.jobs/nightly.html" "$tmp/fleet-nightly.dom"
pycheck "fleet's nightly drawn" drawn "$tmp/fleet-nightly.dom" "$tmp/nightly.audit"
render "file://$tmp/fleet.html" --screenshot="$out/timeline-fleet-test.png" >/dev/null
if [ -s "$out/timeline-fleet-test.png" ]; then pass=$((pass + 1)); else
	fail=$((fail + 1)); echo "FAIL no screenshot at $out/timeline-fleet-test.png"; fi

finish
