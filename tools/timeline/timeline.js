/* timeline.js: draws the page `statelog timeline` writes (tools/cmd_timeline.c)
 * from the JSON in <script id="sl-data">.  Plain script: no framework, no
 * build step, nothing fetched.
 *
 * The data of a job's page (kind "job"):
 *   job            the job id
 *   generated      when the page was written (ISO-8601); version: statelog's
 *   log_last_seq, log_last_t   the log's last event (t: microseconds, UTC)
 *   fleet          the link back to the fleet page, or null
 *   job_columns, sheet_columns   the column names of the jobs and sheets rows
 *   events         the job's events in order, each:
 *     seq, t       its sequence number and time (microseconds since the epoch, UTC)
 *     type, sheet  its type and sheet (0: about the whole job), life (1, 2, ...)
 *     refused      true when the rules refused it (nothing changed)
 *     story        its line in `statelog audit` (absent when not part of the story)
 *     info         its body's fields, long text cut (absent for saves)
 *     ch           the columns it changed: [sheet (0: the jobs row),
 *                  column index (-1: the job's presence: "live"/"deleted"), new value]
 *     rs           times a save only re-stamped: applied, not shown as changes
 * A new row starts with every column null; the changes give its values.
 * Applying the changes of events 0..i in order gives the job as of event i,
 * which stateJson() writes as `statelog show JOB --seq SEQ --json` does.
 *
 * The data of the fleet's page (kind "fleet"): generated, version, jobs (id,
 * name, status, total_sheets, last_completed_sheet, counts of sheets by
 * status, events, last_seq, last_time, updated_at, error_message, deleted,
 * href), recent (the log's last events: seq, time, job, sheet, type).
 */
"use strict";

(function () {
	var T0 = performance.now();
	var data = JSON.parse(document.getElementById("sl-data").textContent);
	var app = document.getElementById("app");

	/* ---- helpers --------------------------------------------------------- */

	function esc(s) {
		return String(s).replace(/[&<>"]/g, function (c) {
			return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;" }[c];
		});
	}

	function cut(s, n) {
		s = String(s);
		return s.length > n ? s.slice(0, n) + "\u2026" : s;
	}

	/* Microseconds -> "2026-12-02 05:30:02.778" (UTC). */
	function fmtT(us) {
		return new Date(Math.floor(us / 1000)).toISOString().replace("T", " ").replace("Z", "");
	}

	/* An ISO-8601 text of the views -> the same short form. */
	function fmtIso(s) {
		return s ? s.replace("T", " ").replace(/(\.\d{3})\d*/, "$1").replace("+00:00", "") : "-";
	}

	function fmtValue(v, absent) {
		if (absent) return "(no row)";
		if (v === null || v === undefined) return "NULL";
		if (typeof v === "string") return "\"" + cut(v, 80) + "\"";
		return String(v);
	}

	function fmtSeconds(s) {
		if (s === null || s === undefined) return "-";
		return s < 120 ? s.toFixed(3).replace(/\.?0+$/, "") + " s" : (s / 60).toFixed(1) + " min";
	}

	function el(tag, attrs, html) {
		var e = document.createElement(tag);
		for (var k in attrs) e.setAttribute(k, attrs[k]);
		if (html !== undefined) e.innerHTML = html;
		return e;
	}

	function badge(status) {
		return "<span class=\"badge st-" + esc(status) + "\">" + esc(status) + "</span>";
	}

	function done() {
		void document.body.offsetHeight;        /* lay the page out before saying so */
		document.body.setAttribute("data-script-ms", (performance.now() - T0).toFixed(1));
		document.body.setAttribute("data-ready-ms", performance.now().toFixed(1));
	}

	if (data.kind === "fleet") {
		renderFleet();
	} else {
		renderJob();
	}
	done();

	/* ---- the fleet --------------------------------------------------------- */

	function renderFleet() {
		document.title = "statelog: the fleet";
		var jobs = data.jobs.slice().sort(function (a, b) {
			return (b.last_seq || 0) - (a.last_seq || 0);
		});
		var byStatus = {};
		jobs.forEach(function (j) {
			var s = j.deleted ? "deleted" : j.status;
			byStatus[s] = (byStatus[s] || 0) + 1;
		});
		var facts = Object.keys(byStatus).sort().map(function (s) {
			return badge(s) + " " + byStatus[s];
		}).join(" &nbsp; ");
		app.innerHTML =
			"<h1>The fleet</h1>" +
			"<div class=\"facts muted\"><span>" + jobs.length + " jobs</span><span>written " +
			esc(fmtIso(data.generated)) + " UTC by statelog " + esc(data.version) + "</span></div>" +
			"<div class=\"facts\">" + facts + "</div>" +
			"<div class=\"toolbar\"><input type=\"search\" id=\"ffilter\" placeholder=\"filter jobs\" size=\"30\"></div>" +
			"<div class=\"scroll\" style=\"max-height:60vh\"><table id=\"fleet\"><thead><tr><th>job</th><th>name</th>" +
			"<th>status</th><th>sheets</th><th></th><th>events</th><th>last change (UTC)</th>" +
			"<th>error</th></tr></thead><tbody></tbody></table></div>" +
			"<h2>Recent activity</h2><div class=\"scroll\"><table id=\"recent\"><thead><tr><th>#</th>" +
			"<th>time (UTC)</th><th>job</th><th>sheet</th><th>event</th></tr></thead><tbody></tbody></table></div>";
		var hrefOf = {};
		jobs.forEach(function (j) { hrefOf[j.id] = j.href; });
		var order = ["completed", "failed", "skipped", "cancelled", "in_progress", "dispatched"];
		var rows = jobs.map(function (j) {
			var status = j.deleted ? "deleted" : j.status;
			var total = Math.max(j.total_sheets || 0, 1), bar = "", counted = 0;
			var counts = j.counts || {};
			Object.keys(counts).forEach(function (s) { counted += counts[s]; });
			total = Math.max(total, counted);
			order.forEach(function (s) {
				if (!counts[s]) return;
				var cls = s === "in_progress" || s === "dispatched" ? "running" : s;
				bar += "<i style=\"width:" + (100 * counts[s] / total).toFixed(2) +
					"%;background:var(--" + cls + ")\" title=\"" + counts[s] + " " + s + "\"></i>";
			});
			var other = counted - order.reduce(function (a, s) { return a + (counts[s] || 0); }, 0);
			if (other > 0)
				bar += "<i style=\"width:" + (100 * other / total).toFixed(2) +
					"%;background:var(--other)\" title=\"" + other + " waiting or retrying\"></i>";
			var text = (j.id + " " + (j.name || "") + " " + status).toLowerCase();
			return "<tr class=\"job\" data-job=\"" + esc(j.id) + "\" data-status=\"" + esc(status) +
				"\" data-text=\"" + esc(text) + "\"><td><a href=\"" + esc(j.href) + "\">" + esc(j.id) +
				"</a></td><td>" + esc(j.name || "") + "</td><td>" + badge(status) + "</td><td>" +
				(j.deleted ? "-" : (counts.completed || 0) + "/" + (j.total_sheets || 0)) +
				"</td><td><div class=\"progress\">" + bar + "</div></td><td>" + j.events +
				"</td><td>" + esc(fmtIso(j.deleted ? j.last_time : j.updated_at)) + "</td><td>" +
				esc(cut(j.error_message || "", 80)) + "</td></tr>";
		});
		document.querySelector("#fleet tbody").innerHTML = rows.join("");
		document.querySelector("#recent tbody").innerHTML = data.recent.map(function (r) {
			var job = r.job === null ? "-" : hrefOf[r.job] ?
				"<a href=\"" + esc(hrefOf[r.job]) + "#at=" + r.seq + "\">" + esc(r.job) + "</a>" : esc(r.job);
			return "<tr><td>" + r.seq + "</td><td>" + esc(fmtIso(r.time)) + "</td><td>" + job +
				"</td><td>" + (r.sheet || "") + "</td><td>" + esc(r.type) + "</td></tr>";
		}).join("");
		document.getElementById("ffilter").addEventListener("input", function () {
			var q = this.value.toLowerCase();
			document.querySelectorAll("#fleet tr.job").forEach(function (tr) {
				tr.style.display = tr.getAttribute("data-text").indexOf(q) >= 0 ? "" : "none";
			});
		});
	}

	/* ---- a job: replaying its changes ------------------------------------------ */

	function renderJob() {
		var jobCols = data.job_columns, sheetCols = data.sheet_columns;
		var evs = data.events, n = evs.length;
		var ACTIVE = { in_progress: 1, dispatched: 1 };
		var FINAL = { completed: 1, failed: 1, skipped: 1, cancelled: 1 };
		var MARKS = {
			job_created: "created", job_config_changed: "configuration changed",
			job_paused: "paused", job_resumed: "resumed", zombie_recovered: "zombie recovered",
			job_failed: "failed", job_completed: "completed", job_cancelled: "cancelled",
			job_deleted: "deleted", job_fields_set: "saved"
		};
		var MARK_COLOR = {
			job_created: "var(--completed)", job_config_changed: "var(--other)",
			job_paused: "var(--interrupted)", job_resumed: "var(--running)",
			zombie_recovered: "#000", job_failed: "var(--failed)", job_completed: "var(--completed)",
			job_cancelled: "var(--cancelled)", job_deleted: "var(--fg)", job_fields_set: "var(--other)"
		};

		function newRow(cols) {
			var r = {};
			cols.forEach(function (c) { r[c] = null; });
			return r;
		}

		/* Applies ev's changes to st (null: no job) and returns the state after.
		 * When before is an array, the value each change replaced is pushed
		 * onto it ({absent: true} where the row did not exist). */
		function apply(st, ev, before) {
			var list = (ev.ch || []).concat(ev.rs || []);
			for (var k = 0; k < list.length; k++) {
				var c = list[k], sheet = c[0], col = c[1], v = c[2];
				if (col === -1) {
					if (before) before.push({ absent: false, v: st ? "live" : "absent" });
					st = v === "live" ? { job: newRow(jobCols), sheets: {} } : null;
					continue;
				}
				if (!st) { if (before) before.push({ absent: true }); continue; }
				if (sheet === 0) {
					if (before) before.push({ absent: false, v: st.job[jobCols[col]] });
					st.job[jobCols[col]] = v;
				} else {
					var row = st.sheets[sheet];
					if (before) before.push(row ? { absent: false, v: row[sheetCols[col]] } : { absent: true });
					if (!row) row = st.sheets[sheet] = newRow(sheetCols);
					row[sheetCols[col]] = v;
				}
			}
			return st;
		}

		function parseJson(s, emptyList) {
			if (s === null) return emptyList ? [] : null;
			try { return JSON.parse(s); } catch (e) { return s; }
		}

		/* The state as `statelog show --json` writes it (cmd_dash.c, state_json). */
		function stateJson(st) {
			var j = st.job, sheets = {};
			Object.keys(st.sheets).map(Number).sort(function (a, b) { return a - b; }).forEach(function (num) {
				var s = st.sheets[num];
				sheets[num] = {
					sheet_num: s.sheet_num, status: s.status, started_at: s.started_at,
					completed_at: s.completed_at, attempt_count: s.attempt_count, exit_code: s.exit_code,
					error_message: s.error_message, error_category: s.error_category,
					validation_passed: s.validation_passed,
					validation_details: parseJson(s.validation_details, false),
					completion_attempts: s.completion_attempts,
					passed_validations: parseJson(s.passed_validations, true),
					failed_validations: parseJson(s.failed_validations, true),
					last_pass_percentage: s.last_pass_percentage, execution_mode: s.execution_mode,
					outcome_data: parseJson(s.outcome_data, false), confidence_score: s.confidence_score,
					learned_patterns: parseJson(s.learned_patterns, true),
					similar_outcomes_count: s.similar_outcomes_count,
					success_without_retry: s.success_without_retry, outcome_category: s.outcome_category,
					execution_duration_seconds: s.execution_duration_seconds,
					exit_signal: s.exit_signal, exit_reason: s.exit_reason
				};
			});
			return {
				job_id: j.id, job_name: j.name, config_hash: j.config_hash,
				config_snapshot: parseJson(j.config_snapshot, false), config_path: j.config_path,
				created_at: j.created_at, updated_at: j.updated_at, started_at: j.started_at,
				completed_at: j.completed_at, total_sheets: j.total_sheets,
				last_completed_sheet: j.last_completed_sheet, current_sheet: j.current_sheet,
				status: j.status, sheets: sheets, pid: j.pid, error_message: j.error_message,
				total_retry_count: j.total_retry_count, rate_limit_waits: j.rate_limit_waits
			};
		}

		/* One pass over the events: what each change replaced, the attempts
		 * (from the sheets' status and attempt_count), execution records, the
		 * job's marks and its status over time. */
		var befores = [], attempts = [], records = [], marks = [], bands = [], lives = [];
		var open = {}, lastOf = {}, maxSheet = 0;
		var st = null, bandStart = null, bandStatus = null;

		function close(a, i, outcome, row) {
			a.end = i;
			a.outcome = outcome;
			if (row) {
				a.msg = row.error_message;
				a.cat = row.error_category;
				a.exit = row.exit_code;
				a.dur = row.execution_duration_seconds;
			}
			open[a.sheet] = null;
		}

		for (var i = 0; i < n; i++) {
			var ev = evs[i], touched = {}, was = {};
			if (ev.sheet > 0) touched[ev.sheet] = true;
			(ev.ch || []).forEach(function (c) { if (c[0] > 0) touched[c[0]] = true; });
			Object.keys(touched).forEach(function (s) {
				var r = st && st.sheets[s];
				was[s] = r ? { status: r.status, attempts: r.attempt_count } : null;
			});
			var wasLive = st !== null, jobWas = st ? st.job.status : null;
			var b = [];
			st = apply(st, ev, b);
			befores.push(b);
			if (!wasLive && st) lives.push(i);
			Object.keys(touched).forEach(function (s) {
				s = Number(s);
				var r = st && st.sheets[s], w = was[s];
				if (!r) return;         /* a refused event names a sheet that has no row */
				if (s > maxSheet) maxSheet = s;
				var started = r.attempt_count > (w ? w.attempts : 0) ||
					(ACTIVE[r.status] && !(w && ACTIVE[w.status]));
				if (started) {
					if (open[s]) close(open[s], i, "interrupted", null);
					open[s] = lastOf[s] = { sheet: s, attempt: r.attempt_count, start: i, life: ev.life, recs: [] };
					attempts.push(open[s]);
				}
				if (FINAL[r.status] && !(w && w.status === r.status)) {
					var a = open[s];
					if (!a) {
						a = lastOf[s] = { sheet: s, attempt: r.attempt_count, start: i, life: ev.life, recs: [] };
						attempts.push(a);
					}
					close(a, i, r.status, r);
				}
			});
			if (wasLive && !st) {
				Object.keys(open).forEach(function (s) { if (open[s]) close(open[s], i, "interrupted", null); });
			}
			if (st && st.job.total_sheets > maxSheet) maxSheet = st.job.total_sheets;
			if (ev.type === "execution_recorded" && !ev.refused) {
				var rs = ev.info ? ev.info.sheet_num : ev.sheet;
				var owner = open[rs] || lastOf[rs] || null;
				var rec = { i: i, sheet: rs, info: ev.info || {}, attempt: owner };
				records.push(rec);
				if (owner) owner.recs.push(rec);
				if (rs > maxSheet) maxSheet = rs;       /* a record may name a sheet without a row */
			}
			if (MARKS[ev.type] && !ev.refused && (ev.type !== "job_fields_set" || ev.story))
				marks.push(i);
			var jobNow = st ? st.job.status : null;
			if (jobNow !== jobWas) {
				if (bandStatus !== null) bands.push({ start: bandStart, end: i, status: bandStatus });
				bandStart = i;
				bandStatus = jobNow;
			}
		}
		var finalState = st;
		if (bandStatus !== null) bands.push({ start: bandStart, end: n, status: bandStatus });
		var running = 0;
		attempts.forEach(function (a, k) {
			a.index = k;
			if (a.end === undefined) { a.end = n; a.outcome = "running"; running++; }
		});
		records.forEach(function (r, k) { r.index = k; });

		/* ---- the page ---------------------------------------------------- */

		var last = n ? evs[n - 1] : null;
		var t0 = n ? evs[0].t : 0;
		/* The axis ends at the job's last event, or at the log's last when an
		 * attempt is still open (it runs on, as far as the log knows). */
		var tEnd = Math.max(last ? last.t : 0, running ? data.log_last_t || 0 : 0);
		var nameOf = finalState ? finalState.job.name : null;
		for (var k = n - 1; !nameOf && k >= 0; k--)
			if (evs[k].type === "job_created" && evs[k].info) nameOf = evs[k].info.name;
		document.title = "statelog: " + data.job;
		var outcomes = {};
		attempts.forEach(function (a) { outcomes[a.outcome] = (outcomes[a.outcome] || 0) + 1; });
		var status = finalState ? finalState.job.status : "deleted";
		app.innerHTML =
			(data.fleet ? "<div><a href=\"" + esc(data.fleet) + "\">\u2190 the fleet</a></div>" : "") +
			"<h1>" + esc(data.job) + (nameOf ? " <span class=\"muted\">" + esc(nameOf) + "</span>" : "") +
			" " + badge(status) + "</h1>" +
			"<div class=\"facts muted\"><span>" + n + " events" + (n ? ", #" + evs[0].seq + " to #" + last.seq : "") +
			"</span><span>" + (n ? esc(fmtT(t0)) + " to " + esc(fmtT(last.t)) + " UTC" : "") + "</span><span>" +
			lives.length + (lives.length === 1 ? " life" : " lives") + "</span><span>" + attempts.length +
			" attempts: " + Object.keys(outcomes).sort().map(function (o) { return outcomes[o] + " " + o; }).join(", ") +
			"</span><span>" + records.length + " execution records</span><span>written " +
			esc(fmtIso(data.generated)) + " UTC by statelog " + esc(data.version) + "</span></div>" +
			"<div class=\"toolbar\"><label>axis <select id=\"axis\"><option value=\"time\">time</option>" +
			"<option value=\"seq\">event order</option></select></label>" +
			"<label>width <select id=\"zoom\"><option value=\"1\">fit</option><option value=\"2\">2\u00d7</option>" +
			"<option value=\"4\">4\u00d7</option><option value=\"8\">8\u00d7</option><option value=\"32\">32\u00d7</option></select></label>" +
			"<span class=\"legend\">" + ["completed", "failed", "skipped", "cancelled", "running", "interrupted"].map(function (o) {
				return "<span><i style=\"background:var(--" + o + ")\"></i>" + o + "</span>";
			}).join("") + "<span>\u25cb execution record</span><span>\u25c6 job event</span></span></div>" +
			"<div id=\"chart\"></div>" +
			"<div class=\"travel\"><div class=\"toolbar\"><button id=\"prev\" title=\"previous event\">\u25c0</button>" +
			"<button id=\"next\" title=\"next event\">\u25b6</button><b id=\"at\"></b></div>" +
			"<input type=\"range\" id=\"slider\" min=\"0\" max=\"" + Math.max(n - 1, 0) + "\" value=\"" + Math.max(n - 1, 0) + "\">" +
			"<div class=\"grid2\"><div><h2>The event</h2><div class=\"detail\" id=\"detail\"></div></div>" +
			"<div><h2>The job as of this event</h2><div id=\"state\"></div>" +
			"<details><summary>As JSON, as <code>statelog show " + esc(data.job) + " --at <span id=\"jseq\"></span> --json</code></summary>" +
			"<pre id=\"state-json\" class=\"scroll\"></pre></details></div></div></div>" +
			"<h2>The audit</h2><div class=\"toolbar\"><input type=\"search\" id=\"afilter\" placeholder=\"filter: text, type, column\" size=\"30\">" +
			"<label>sheet <input type=\"number\" id=\"asheet\" min=\"1\" style=\"width:6em\"></label>" +
			"<label><input type=\"checkbox\" id=\"afull\"> every event and change (--full)</label><span id=\"acount\" class=\"muted\"></span></div>" +
			"<div class=\"scroll\" style=\"max-height:70vh\"><table id=\"audit\"><thead><tr><th>#</th><th>time (UTC)</th><th>life</th>" +
			"<th>sheet</th><th>event</th><th>what happened</th></tr></thead><tbody></tbody></table></div>" +
			"<div class=\"toolbar\"><button id=\"amore\" hidden>show more</button></div>";

		/* ---- the chart --------------------------------------------------- */

		var LABEL = 62, LANE = 14, TOP = 26, JOB = 24;
		var chart = document.getElementById("chart");
		var axis = "time", zoom = 1, W = 0, selected = Math.max(n - 1, 0);

		function X(i) {
			if (axis === "seq") return LABEL + W * i / Math.max(n, 1);
			var t = i >= n ? tEnd : evs[i].t;
			return LABEL + W * (t - t0) / Math.max(tEnd - t0, 1);
		}

		/* The end of an attempt still running: now, as far as the log knows. */
		function XEnd(a) {
			return a.end >= n ? (axis === "seq" ? LABEL + W : LABEL + W) : X(a.end);
		}

		function laneY(s) { return TOP + JOB + (s - 1) * LANE; }

		function ticks() {
			var out = "";
			if (axis === "seq") {
				for (var k = 0; k <= 8 && n; k++) {
					var i = Math.min(n - 1, Math.round(k * (n - 1) / 8)), x = X(i);
					out += "<line x1=\"" + x + "\" x2=\"" + x + "\" y1=\"" + (TOP - 4) + "\" y2=\"100%\"></line>" +
						"<text x=\"" + (x + 2) + "\" y=\"" + (TOP - 8) + "\">#" + evs[i].seq + "</text>";
				}
				return out;
			}
			var span = Math.max(tEnd - t0, 1), steps = [1e3, 1e4, 1e5, 1e6, 5e6, 1e7, 3e7, 6e7, 3e8, 6e8,
				18e8, 36e8, 72e8, 216e8, 432e8, 864e8, 6048e8];
			var step = steps[steps.length - 1];
			for (var s = 0; s < steps.length; s++) if (span / steps[s] <= 10 * zoom) { step = steps[s]; break; }
			var first = Math.ceil(t0 / step) * step;
			for (var t = first; t <= tEnd; t += step) {
				var x2 = LABEL + W * (t - t0) / span, label = fmtT(t);
				label = step >= 864e8 ? label.slice(0, 10) : step >= 1e6 ? label.slice(11, 19) : label.slice(11, 23);
				out += "<line x1=\"" + x2 + "\" x2=\"" + x2 + "\" y1=\"" + (TOP - 4) + "\" y2=\"100%\"></line>" +
					"<text x=\"" + (x2 + 2) + "\" y=\"" + (TOP - 8) + "\">" + label + "</text>";
			}
			return out;
		}

		function attemptTitle(a) {
			var t = "sheet " + a.sheet + ", attempt " + a.attempt + ": " + a.outcome;
			var s = evs[a.start], e = a.end < n ? evs[a.end] : null;
			t += "\nfrom #" + s.seq + " " + fmtT(s.t) + (e ? "\nto #" + e.seq + " " + fmtT(e.t) : "\nstill open");
			if (a.cat) t += "\ncategory: " + a.cat;
			if (a.exit !== undefined && a.exit !== null) t += "\nexit code: " + a.exit;
			if (a.dur !== undefined && a.dur !== null) t += "\nduration: " + fmtSeconds(a.dur);
			if (a.msg && a.outcome !== "completed") t += "\n" + cut(a.msg, 300);
			a.recs.forEach(function (r) {
				t += "\nrecord: exit " + (r.info.exit_code === undefined ? "-" : r.info.exit_code) +
					", " + fmtSeconds(r.info.duration_seconds);
			});
			return t;
		}

		function drawChart() {
			var width = Math.max(chart.clientWidth - 2, 600);
			W = (width - LABEL - 10) * zoom;
			var H = laneY(maxSheet + 1) + 6;
			var svg = [];
			svg.push("<svg width=\"" + (W + LABEL + 10) + "\" height=\"" + H + "\">");
			svg.push("<g class=\"axis\">" + ticks() + "</g>");
			/* the job lane: its status over time, its lives, its marks */
			svg.push("<g class=\"lane job-lane\"><text x=\"4\" y=\"" + (TOP + 15) + "\">job</text>");
			bands.forEach(function (bd) {
				if (bd.status === null) return;
				var x1 = X(bd.start), x2 = bd.end >= n ? LABEL + W : X(bd.end);
				svg.push("<rect class=\"js st-" + esc(bd.status) + "\" x=\"" + x1 + "\" y=\"" + (TOP + 4) + "\" width=\"" +
					Math.max(x2 - x1, 1) + "\" height=\"14\" style=\"fill:var(--" +
					({ completed: "completed", failed: "failed", cancelled: "cancelled", running: "running",
						paused: "interrupted", paused_at_chain: "interrupted" }[bd.status] || "skipped") +
					")\"><title>job " + esc(bd.status) + " from #" + evs[bd.start].seq + "</title></rect>");
			});
			marks.forEach(function (i) {
				var ev = evs[i], x = X(i), y = TOP + 11;
				svg.push("<path class=\"mark\" data-i=\"" + i + "\" data-type=\"" + ev.type + "\" data-seq=\"" + ev.seq +
					"\" d=\"M" + x + " " + (y - 7) + "l6 7l-6 7l-6 -7z\" style=\"fill:" + MARK_COLOR[ev.type] + "\"></path>");
			});
			lives.forEach(function (i) {
				if (i === 0) return;
				var x = X(i);
				svg.push("<line class=\"life\" x1=\"" + x + "\" x2=\"" + x + "\" y1=\"" + TOP + "\" y2=\"" + H + "\"></line>");
			});
			svg.push("</g>");
			/* a lane per sheet */
			var bySheet = {};
			attempts.forEach(function (a) { (bySheet[a.sheet] = bySheet[a.sheet] || []).push(a); });
			var recsBy = {};
			records.forEach(function (r) { (recsBy[r.sheet] = recsBy[r.sheet] || []).push(r); });
			for (var s = 1; s <= maxSheet; s++) {
				var y = laneY(s);
				svg.push("<g class=\"lane\" data-sheet=\"" + s + "\"><text x=\"4\" y=\"" + (y + 10) + "\">sheet " + s + "</text>");
				(bySheet[s] || []).forEach(function (a) {
					var x1 = X(a.start), x2 = XEnd(a), cls = FINAL[a.outcome] || a.outcome === "running" ||
						a.outcome === "interrupted" ? a.outcome : "other";
					svg.push("<rect class=\"bar o-" + cls + "\" data-a=\"" + a.index + "\" data-i=\"" + (a.end < n ? a.end : a.start) +
						"\" data-sheet=\"" + s + "\" data-attempt=\"" + a.attempt + "\" data-outcome=\"" + a.outcome +
						"\" data-start=\"" + evs[a.start].seq + "\" data-end=\"" + (a.end < n ? evs[a.end].seq : "") + "\" x=\"" + x1 +
						"\" y=\"" + (y + 2) + "\" width=\"" + Math.max(x2 - x1, 2) + "\" height=\"" + (LANE - 4) + "\"></rect>");
				});
				(recsBy[s] || []).forEach(function (r) {
					svg.push("<circle class=\"rec\" data-r=\"" + r.index + "\" data-i=\"" + r.i + "\" data-sheet=\"" + s +
						"\" data-seq=\"" + evs[r.i].seq + "\" cx=\"" + X(r.i) + "\" cy=\"" + (y + LANE / 2) + "\" r=\"2.5\"></circle>");
				});
				svg.push("</g>");
			}
			svg.push("<line class=\"cursor\" id=\"cursor\" x1=\"0\" x2=\"0\" y1=\"" + (TOP - 4) + "\" y2=\"" + H + "\"></line>");
			svg.push("</svg>");
			chart.innerHTML = svg.join("");
			/* stripes behind every other lane, without an element each */
			chart.firstChild.style.background = "repeating-linear-gradient(#fff 0 " + LANE + "px, #f5f7fa " + LANE +
				"px " + 2 * LANE + "px) 0 " + (TOP + JOB) + "px / 100% " + 2 * LANE + "px repeat-y";
			placeCursor();
		}

		function placeCursor() {
			var c = document.getElementById("cursor");
			if (!c || !n) return;
			var x = X(selected);
			c.setAttribute("x1", x);
			c.setAttribute("x2", x);
		}

		/* The event nearest to x on the axis. */
		function nearest(x) {
			var lo = 0, hi = n - 1;
			while (lo < hi) {
				var mid = (lo + hi + 1) >> 1;
				if (X(mid) <= x) lo = mid; else hi = mid - 1;
			}
			if (lo + 1 < n && Math.abs(X(lo + 1) - x) < Math.abs(X(lo) - x)) lo++;
			return lo;
		}

		/* One tooltip for the whole chart: what is under the pointer. */
		var tip = el("div", { id: "tip", hidden: "" });
		document.body.appendChild(tip);

		function tipText(t) {
			if (t.hasAttribute("data-a")) return attemptTitle(attempts[Number(t.getAttribute("data-a"))]);
			var ev = evs[Number(t.getAttribute("data-i"))];
			if (t.hasAttribute("data-r")) {
				var info = records[Number(t.getAttribute("data-r"))].info;
				return "#" + ev.seq + " " + fmtT(ev.t) + "\nexecution record of sheet " + info.sheet_num + ", attempt " +
					info.attempt_num + "\nexit code: " + (info.exit_code === undefined ? "-" : info.exit_code) +
					"\nduration: " + fmtSeconds(info.duration_seconds) +
					(info.prompt ? "\nprompt: " + cut(info.prompt, 120) : "") + (info.output ? "\noutput: " + cut(info.output, 120) : "");
			}
			return "#" + ev.seq + " " + fmtT(ev.t) + "\n" + (ev.story || MARKS[ev.type] || ev.type);
		}

		chart.addEventListener("mouseover", function (e) {
			var t = e.target.closest("[data-i]");
			if (!t) { tip.hidden = true; return; }
			tip.textContent = tipText(t);
			tip.hidden = false;
		});
		chart.addEventListener("mousemove", function (e) {
			tip.style.left = Math.min(e.clientX + 14, window.innerWidth - 380) + "px";
			tip.style.top = (e.clientY + 14) + "px";
		});
		chart.addEventListener("mouseleave", function () { tip.hidden = true; });

		chart.addEventListener("click", function (e) {
			var t = e.target.closest("[data-i]");
			if (t) { select(Number(t.getAttribute("data-i")), true); return; }
			var svg = chart.querySelector("svg");
			if (!svg || !n) return;
			var x = e.clientX - svg.getBoundingClientRect().left;
			if (x >= LABEL) select(nearest(x), true);
		});

		/* ---- time travel ----------------------------------------------------- */

		var tt = { i: -1, st: null };

		/* The job as of event i: applied forward from the last answer, or
		 * from the start when going back. */
		function stateAt(i) {
			if (i < tt.i) tt = { i: -1, st: null };
			while (tt.i < i) {
				tt.i++;
				tt.st = apply(tt.st, evs[tt.i], null);
			}
			return tt.st;
		}

		function stateHtml(s, ev) {
			if (!s) return "<p>The job does not exist as of #" + ev.seq + (ev.type === "job_deleted" ? " (deleted)" : "") + ".</p>";
			var j = s.job, nums = Object.keys(s.sheets).map(Number).sort(function (a, b) { return a - b; });
			var h = "<div class=\"detail\"><dl><dt>status</dt><dd>" + badge(j.status) + "</dd><dt>sheets</dt><dd>" +
				j.last_completed_sheet + " of " + j.total_sheets + " completed" +
				(j.current_sheet !== null ? ", sheet " + j.current_sheet + " current" : "") + "</dd>" +
				"<dt>pid</dt><dd>" + (j.pid === null ? "-" : j.pid) + "</dd><dt>retries</dt><dd>" + j.total_retry_count +
				"</dd><dt>rate-limit waits</dt><dd>" + j.rate_limit_waits + "</dd><dt>updated</dt><dd>" + esc(fmtIso(j.updated_at)) +
				"</dd>" + (j.error_message ? "<dt>error</dt><dd>" + esc(cut(j.error_message, 300)) + "</dd>" : "") + "</dl></div>";
			h += "<div class=\"scroll\" style=\"max-height:240px\"><table class=\"sheets\"><thead><tr><th>sheet</th><th>status</th>" +
				"<th>attempts</th><th>exit</th><th>duration</th><th>error</th></tr></thead><tbody>";
			nums.forEach(function (k) {
				var r = s.sheets[k];
				h += "<tr data-sheet=\"" + k + "\"><td>" + k + "</td><td>" + badge(r.status) + "</td><td>" + r.attempt_count +
					"</td><td>" + (r.exit_code === null ? "-" : r.exit_code) + "</td><td>" + fmtSeconds(r.execution_duration_seconds) +
					"</td><td>" + esc(cut(r.error_message || "", 100)) + "</td></tr>";
			});
			return h + "</tbody></table></div>";
		}

		/* Change k of event i, "before -> after". */
		function changeText(i, k, c) {
			var b = befores[i][k];
			var row = c[1] === -1 ? "job" : c[0] ? "sheet " + c[0] : "job";
			var col = c[1] === -1 ? "presence" : c[0] ? sheetCols[c[1]] : jobCols[c[1]];
			return row + " " + col + ": " + fmtValue(b ? b.v : null, b && b.absent) + " \u2192 " + fmtValue(c[2], false);
		}

		function detailHtml(i) {
			var ev = evs[i];
			var h = "<div><b>#" + ev.seq + "</b> " + esc(fmtT(ev.t)) + " UTC, life " + ev.life + ", <b>" + esc(ev.type) +
				"</b>" + (ev.sheet ? ", sheet " + ev.sheet : "") + (ev.refused ? " <i>(refused by the rules: nothing changed)</i>" : "") + "</div>";
			if (ev.story) h += "<p>" + esc(ev.story) + "</p>";
			if (ev.info) {
				h += "<dl>";
				Object.keys(ev.info).forEach(function (k) {
					var v = ev.info[k];
					h += "<dt>" + esc(k) + "</dt><dd>" + esc(typeof v === "string" ? v : JSON.stringify(v)) + "</dd>";
				});
				h += "</dl>";
			}
			var ch = ev.ch || [];
			if (ch.length) {
				h += "<details" + (ch.length <= 12 ? " open" : "") + "><summary>" + ch.length + " changes</summary><ul class=\"chg\">";
				ch.forEach(function (c, k) { h += "<li>" + esc(changeText(i, k, c)) + "</li>"; });
				h += "</ul></details>";
			}
			return h;
		}

		var pendingFrame = 0;

		function select(i, scroll) {
			if (!n) return;
			selected = Math.max(0, Math.min(n - 1, i));
			var ev = evs[selected];
			document.getElementById("slider").value = selected;
			document.getElementById("at").textContent = "#" + ev.seq + "  " + fmtT(ev.t) + " UTC  " + ev.type +
				(ev.sheet ? " (sheet " + ev.sheet + ")" : "") + "   event " + (selected + 1) + " of " + n;
			placeCursor();
			var s = stateAt(selected);
			document.getElementById("state").innerHTML = stateHtml(s, ev);
			var pre = document.getElementById("state-json");
			pre.setAttribute("data-seq", ev.seq);
			pre.setAttribute("data-exists", s ? "1" : "0");
			pre.textContent = s ? JSON.stringify(stateJson(s), null, 1) : "";
			document.getElementById("jseq").textContent = ev.seq;
			document.getElementById("detail").innerHTML = detailHtml(selected);
			var old = document.querySelector("#audit tr.sel");
			if (old) old.classList.remove("sel");
			var row = document.querySelector("#audit tr[data-i=\"" + selected + "\"]");
			if (row) {
				row.classList.add("sel");
				if (scroll) row.scrollIntoView({ block: "nearest" });
			}
			if (scroll && history.replaceState) history.replaceState(null, "", "#at=" + ev.seq);
		}

		document.getElementById("slider").addEventListener("input", function () {
			var v = Number(this.value);
			cancelAnimationFrame(pendingFrame);
			pendingFrame = requestAnimationFrame(function () { select(v, false); });
		});
		document.getElementById("prev").addEventListener("click", function () { select(selected - 1, true); });
		document.getElementById("next").addEventListener("click", function () { select(selected + 1, true); });
		document.getElementById("axis").addEventListener("change", function () { axis = this.value; drawChart(); });
		document.getElementById("zoom").addEventListener("change", function () { zoom = Number(this.value); drawChart(); });

		/* ---- the audit table ------------------------------------------------- */

		var PAGE = 500, shownRows = PAGE, matching = [];

		function rowText(i) {
			var ev = evs[i];
			return (ev.type + " " + (ev.story || "") + " " + (ev.ch || []).map(function (c) {
				return c[1] === -1 ? "presence" : c[0] ? sheetCols[c[1]] : jobCols[c[1]];
			}).join(" ")).toLowerCase();
		}

		function renderAudit() {
			var q = document.getElementById("afilter").value.toLowerCase();
			var sheet = Number(document.getElementById("asheet").value) || 0;
			var full = document.getElementById("afull").checked;
			matching = [];
			for (var i = 0; i < n; i++) {
				var ev = evs[i];
				if (!full && !ev.story) continue;
				if (sheet && ev.sheet !== sheet) continue;
				if (q && rowText(i).indexOf(q) < 0) continue;
				matching.push(i);
			}
			var html = matching.slice(0, shownRows).map(function (i) {
				var ev = evs[i], what = esc(ev.story || "");
				if (full && ev.ch && ev.ch.length) {
					what += "<ul class=\"chg\">" + ev.ch.map(function (c, k) {
						return "<li>" + esc(changeText(i, k, c)) + "</li>";
					}).join("") + "</ul>";
				}
				return "<tr data-i=\"" + i + "\"" + (ev.refused ? " class=\"refused\"" : "") + "><td>" + ev.seq + "</td><td>" +
					esc(fmtT(ev.t)) + "</td><td>" + ev.life + "</td><td>" + (ev.sheet || "") + "</td><td>" + esc(ev.type) +
					"</td><td>" + what + "</td></tr>";
			});
			document.querySelector("#audit tbody").innerHTML = html.join("");
			document.getElementById("acount").textContent = Math.min(shownRows, matching.length) + " of " +
				matching.length + " shown (" + n + " events in all)";
			document.getElementById("amore").hidden = matching.length <= shownRows;
			var row = document.querySelector("#audit tr[data-i=\"" + selected + "\"]");
			if (row) row.classList.add("sel");
		}

		["afilter", "asheet", "afull"].forEach(function (id) {
			document.getElementById(id).addEventListener("input", function () { shownRows = PAGE; renderAudit(); });
		});
		document.getElementById("amore").addEventListener("click", function () { shownRows += PAGE; renderAudit(); });
		document.querySelector("#audit tbody").addEventListener("click", function (e) {
			var tr = e.target.closest("tr[data-i]");
			if (tr) select(Number(tr.getAttribute("data-i")), false);
		});

		/* ---- start: the event named by #at=SEQ (the last of the job at or
		 * before it), else the last */
		drawChart();
		renderAudit();
		var m = /^#at=(\d+)$/.exec(location.hash), start = n - 1;
		if (m) {
			var want = Number(m[1]);
			start = -1;
			for (var q = 0; q < n && evs[q].seq <= want; q++) start = q;
		}
		if (start >= 0) {
			select(start, false);
		} else if (n) {
			selected = 0;
			document.getElementById("at").textContent = "before the job's first event (#" + evs[0].seq + ")";
			document.getElementById("state").innerHTML = "<p>The job does not exist yet.</p>";
			document.getElementById("state-json").setAttribute("data-exists", "0");
		}
		window.addEventListener("resize", function () { if (zoom === 1) drawChart(); });
		window.addEventListener("hashchange", function () {
			var h = /^#at=(\d+)$/.exec(location.hash);
			if (h) slTimeline.at(Number(h[1]));
		});

		/* For scripts and the browser's console: slTimeline.at(SEQ) selects
		 * the job's last event at or before SEQ and returns the job as of it
		 * as `statelog show --seq SEQ --json` would (null: no job then). */
		window.slTimeline = {
			at: function (seq) {
				var k = -1;
				for (var q2 = 0; q2 < n && evs[q2].seq <= seq; q2++) k = q2;
				if (k < 0) return null;
				select(k, false);
				var s2 = stateAt(k);
				return s2 ? stateJson(s2) : null;
			}
		};
	}
})();
