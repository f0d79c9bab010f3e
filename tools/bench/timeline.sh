#!/bin/sh
# timeline.sh STATELOG [SHEETS] [EVENTS] [RUNS]: the timeline page's figures
# for a large job (BENCHMARKS.md, "The timeline page").
#
# Makes a log holding one job of SHEETS sheets (1000) and EVENTS events
# (5000) with tools/bench/timeline_job.py, writes its page with `statelog
# timeline`, and renders it RUNS times (5) in headless Chromium.  Reports
# the page's size, the time to write it, and for the browser the medians
# of: the page's own script (parse the data, replay every event, draw the
# chart, the audit table and the state as of the last event, and lay the
# page out: data-script-ms), the time from navigation to the page laid out
# (data-ready-ms), and the whole headless run (wall clock and the CPU time
# of all the browser's processes), beside the same run of an empty page
# (the browser's own start and stop) as the baseline.  On a busy machine
# the wall-clock figures grow with the load; the CPU time much less.
set -eu
sl=$1
sheets=${2:-1000}
events=${3:-5000}
runs=${4:-5}
here=$(dirname "$0")
browser=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$browser" ]; then
	echo "timeline.sh: no chromium (sh tools/scripts/install-deps.sh installs it)" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 "$here/timeline_job.py" --sheets "$sheets" --events "$events" >"$tmp/job.jsonl" 2>/dev/null
"$sl" init --log "$tmp/b.log" >/dev/null
"$sl" append --log "$tmp/b.log" <"$tmp/job.jsonl" >/dev/null
"$sl" project --log "$tmp/b.log" >/dev/null
t0=$(date +%s%N)
"$sl" timeline big-job --log "$tmp/b.log" --html "$tmp/page.html" >/dev/null
t1=$(date +%s%N)
bytes=$(wc -c <"$tmp/page.html")
printf '<!DOCTYPE html><html><body data-ready-ms="0">empty</body></html>\n' >"$tmp/empty.html"

run() {  # run FILE: one headless run; prints "wall_ms script_ms ready_ms cpu_ms"
	rm -rf "$tmp/profile" && mkdir "$tmp/profile"
	s=$(date +%s%N)
	/usr/bin/time -f "%U %S" -o "$tmp/cpu" timeout 300 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$tmp/profile" --window-size=1400,1000 --dump-dom "file://$1" \
		>"$tmp/dom" 2>/dev/null
	e=$(date +%s%N)
	script=$(sed -n 's/.*data-script-ms="\([0-9.]*\)".*/\1/p' "$tmp/dom" | head -n 1)
	ready=$(sed -n 's/.*data-ready-ms="\([0-9.]*\)".*/\1/p' "$tmp/dom" | head -n 1)
	cpu=$(awk '{ printf "%d", ($1 + $2) * 1000 }' "$tmp/cpu")
	echo "$(((e - s) / 1000000)) ${script:-0} ${ready:-0} $cpu"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

: >"$tmp/page.runs"
: >"$tmp/empty.runs"
i=0
while [ "$i" -lt "$runs" ]; do
	run "$tmp/page.html" >>"$tmp/page.runs"
	run "$tmp/empty.html" >>"$tmp/empty.runs"
	i=$((i + 1))
done
echo "timeline of one job: $sheets sheets, $events events, $runs runs of $browser ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
echo "  page:            $bytes bytes ($(awk "BEGIN { printf \"%.2f\", $bytes / 1048576 }") MiB), written in $(((t1 - t0) / 1000000)) ms"
echo "  script + layout: $(cut -d' ' -f2 "$tmp/page.runs" | median) ms (median; data-script-ms)"
echo "  ready:           $(cut -d' ' -f3 "$tmp/page.runs" | median) ms from navigation (median; data-ready-ms)"
echo "  headless run:    $(cut -d' ' -f1 "$tmp/page.runs" | median) ms, an empty page $(cut -d' ' -f1 "$tmp/empty.runs" | median) ms (medians, wall clock)"
echo "  browser CPU:     $(cut -d' ' -f4 "$tmp/page.runs" | median) ms, an empty page $(cut -d' ' -f4 "$tmp/empty.runs" | median) ms (medians, user + system, all its processes)"
