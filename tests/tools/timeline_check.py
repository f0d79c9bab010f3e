#!/usr/bin/env python3
"""timeline_check.py: checks what a browser drew from a timeline page
against the log (tests/tools/timeline_test.sh runs it).

  timeline_check.py drawn DOM AUDIT_JSONL
      DOM: the page as `chromium --dump-dom` left it after its script ran;
      AUDIT_JSONL: `statelog audit JOB --json`.  The bars, execution records
      and job marks expected are worked out here from the typed events alone
      (an attempt starts at sheet_started and ends at the sheet's next
      completed, failed or skipped, or at the next start or the job's
      deletion as interrupted; one still open at the end is running), and
      compared, per sheet and outcome, with the <rect class="bar">,
      <circle class="rec"> and <path class="mark"> elements drawn.
  timeline_check.py travel DOM SHOW_DIR
      DOM holds <pre id="tt-out">: {seq: the page's state as of seq, ...};
      SHOW_DIR/SEQ.json is `statelog show JOB --seq SEQ --json` (absent
      where show found no job then: the page must say null).
  timeline_check.py hash DOM SHOW_JSON
      the <pre id="state-json"> the page filled for its #at=SEQ.
  timeline_check.py fleet DOM PAGE_DIR JOB...
      one <tr class="job"> per job, each linking to a page (relative to
      PAGE_DIR, the fleet page's folder).

Prints one line per finding and "N passed, N failed"; exits 1 on a failure.
"""
import collections
import html.parser
import json
import os
import sys
from urllib.parse import unquote

MARK_TYPES = {"job_created", "job_config_changed", "job_paused", "job_resumed", "zombie_recovered",
              "job_failed", "job_completed", "job_cancelled", "job_deleted"}
results = {"pass": 0, "fail": 0}


def ok(cond, what):
    results["pass" if cond else "fail"] += 1
    if not cond:
        print("FAIL " + what)
    return cond


class Dom(html.parser.HTMLParser):
    """The elements with the attributes the checks read, and the text of
    <pre> elements by id."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements = []
        self.pre = {}
        self._pre = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        a["_tag"] = tag
        self.elements.append(a)
        if tag == "pre" and a.get("id"):
            self._pre = a["id"]
            self.pre[self._pre] = ""

    def handle_endtag(self, tag):
        if tag == "pre":
            self._pre = None

    def handle_data(self, data):
        if self._pre:
            self.pre[self._pre] += data

    def with_class(self, tag, cls):
        return [e for e in self.elements
                if e["_tag"] == tag and cls in (e.get("class") or "").split()]


def load_dom(path):
    d = Dom()
    with open(path, encoding="utf-8") as f:
        d.feed(f.read())
    return d


def expected(audit_path):
    """Bars (sheet, outcome), records per sheet and marks by type, from the
    typed events of the audit's JSON lines."""
    bars, records, marks = [], collections.Counter(), collections.Counter()
    open_ = set()
    with open(audit_path, encoding="utf-8") as f:
        events = [json.loads(line) for line in f if line.strip()]
    for e in events:
        if e["refused"]:
            continue
        t, s = e["type"], e["sheet"]
        if t == "sheet_started":
            if s in open_:
                bars.append((s, "interrupted"))
            open_.add(s)
        elif t in ("sheet_completed", "sheet_failed", "sheet_skipped"):
            bars.append((s, t[len("sheet_"):]))
            open_.discard(s)
        elif t == "job_deleted":
            bars.extend((x, "interrupted") for x in open_)
            open_ = set()
        elif t == "execution_recorded":
            records[e["body"]["sheet_num"]] += 1
        if t in MARK_TYPES:
            marks[t] += 1
    bars.extend((x, "running") for x in open_)
    return collections.Counter(bars), records, marks, events


def check_drawn(dom_path, audit_path):
    dom = load_dom(dom_path)
    want_bars, want_recs, want_marks, events = expected(audit_path)
    got_bars = collections.Counter((int(e["data-sheet"]), e["data-outcome"])
                                   for e in dom.with_class("rect", "bar"))
    for key in sorted(set(want_bars) | set(got_bars)):
        ok(want_bars[key] == got_bars[key],
           "sheet %d, %s attempts: the log has %d, the page drew %d" %
           (key[0], key[1], want_bars[key], got_bars[key]))
    got_recs = collections.Counter(int(e["data-sheet"]) for e in dom.with_class("circle", "rec"))
    for s in sorted(set(want_recs) | set(got_recs)):
        ok(want_recs[s] == got_recs[s], "sheet %d execution records: the log has %d, the page drew %d" %
           (s, want_recs[s], got_recs[s]))
    got_marks = collections.Counter(e["data-type"] for e in dom.with_class("path", "mark")
                                    if e["data-type"] in MARK_TYPES)
    for t in sorted(set(want_marks) | set(got_marks)):
        ok(want_marks[t] == got_marks[t], "%s marks: the log has %d, the page drew %d" %
           (t, want_marks[t], got_marks[t]))
    lanes = [int(e["data-sheet"]) for e in dom.elements
             if e["_tag"] == "g" and "lane" in (e.get("class") or "").split() and "data-sheet" in e]
    most = max([s for s, _ in want_bars] + [0])
    ok(lanes == list(range(1, len(lanes) + 1)) and len(lanes) >= most,
       "lanes 1..%d drawn in order, covering every sheet with an attempt (%d)" % (len(lanes), most))
    # Every bar's start and end are events of the job.
    seqs = {e["seq"] for e in events}
    for b in dom.with_class("rect", "bar"):
        ok(int(b["data-start"]) in seqs and (b["data-end"] == "" or int(b["data-end"]) in seqs),
           "bar of sheet %s runs from #%s to #%s, events of the job" %
           (b["data-sheet"], b["data-start"], b["data-end"] or "(open)"))


def check_travel(dom_path, show_dir):
    dom = load_dom(dom_path)
    ok("tt-out" in dom.pre, "the page answered the time-travel script")
    got = json.loads(dom.pre.get("tt-out", "{}"))
    for seq, state in sorted(got.items(), key=lambda kv: int(kv[0])):
        path = os.path.join(show_dir, "%s.json" % seq)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                want = json.load(f)
            ok(state == want, "as of #%s the page's state equals 'statelog show --at %s --json'%s" %
               (seq, seq, "" if state == want else ": " + diff(want, state)))
        else:
            ok(state is None, "as of #%s there is no job, and the page says so" % seq)


def diff(want, got, path=""):
    if isinstance(want, dict) and isinstance(got, dict):
        for k in list(want) + [k for k in got if k not in want]:
            if want.get(k, "(missing)") != got.get(k, "(missing)"):
                return diff(want.get(k, "(missing)"), got.get(k, "(missing)"), path + "." + str(k))
    return "%s: show %r, page %r" % (path or "(top)", want, got)


def check_hash(dom_path, show_json):
    dom = load_dom(dom_path)
    with open(show_json, encoding="utf-8") as f:
        want = json.load(f)
    text = dom.pre.get("state-json", "")
    ok(text and json.loads(text) == want, "the page opened at #at=SEQ shows 'statelog show --at SEQ --json'")


def check_fleet(dom_path, base, jobs):
    dom = load_dom(dom_path)
    rows = dom.with_class("tr", "job")
    ok(sorted(r["data-job"] for r in rows) == sorted(jobs),
       "the fleet lists every job of the log: %s" % ", ".join(sorted(jobs)))
    links = [e["href"] for e in dom.elements if e["_tag"] == "a" and e.get("href", "").endswith(".html")]
    ok(len(links) >= len(jobs), "%d links to job pages" % len(links))
    for href in links:
        ok(os.path.exists(os.path.join(base, unquote(href))), "the link %s leads to a page" % href)


def main():
    mode = sys.argv[1]
    if mode == "drawn":
        check_drawn(sys.argv[2], sys.argv[3])
    elif mode == "travel":
        check_travel(sys.argv[2], sys.argv[3])
    elif mode == "hash":
        check_hash(sys.argv[2], sys.argv[3])
    elif mode == "fleet":
        check_fleet(sys.argv[2], sys.argv[3], sys.argv[4:])
    print("%d passed, %d failed" % (results["pass"], results["fail"]))
    return 1 if results["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
