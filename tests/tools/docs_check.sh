#!/bin/sh
# docs_check.sh SOURCE_ROOT: the project's documents and references stay
# inside the repository.  Over every file of the repository (the tracked
# files when it is a git checkout, else every file outside .git and build
# directories), text files only, it fails on:
#  1. a reference to material outside the repository: the shared folder
#     beside a checkout, its seed pages, or an absolute workspace path;
#  2. a relative path that climbs above the top of the repository;
#  3. a name of a Markdown file (a word ending in .md, with or without a
#     directory) that names no file, looked up from the directory of the
#     file that mentions it, then from the top of the repository;
#  4. in the *.md files, a relative Markdown link whose target does not
#     exist.
# The patterns below are written so that this file does not match them.
set -eu
root=$(cd "${1:?usage: docs_check.sh SOURCE_ROOT}" && pwd -P)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if top=$(git rev-parse --show-toplevel 2>/dev/null) && [ "$(cd "$top" && pwd -P)" = "$root" ]; then
	git ls-files >"$tmp/all"
else
	# not a checkout (a release tarball): every file but .git and build
	# directories (those holding meson-private)
	find . -name .git -prune -o -type d -exec test -d {}/meson-private \; -prune \
		-o -type f -print | sed 's|^\./||' >"$tmp/all"
fi
# text files only (grep -I skips binary ones)
tr '\n' '\0' <"$tmp/all" | xargs -0 grep -Il '' >"$tmp/text" || true
[ -s "$tmp/text" ] || { echo "docs_check: no text files found under $root" >&2; exit 1; }

# Mentions that are data, not references: "file regex<TAB>mention regex"
# (the reference workload's simulated prompts name a style guide of the
# simulated project).
printf '%s\t%s\n' \
	'tools/workload/(config|text)[.]c' 'docs/STYLE[.]md' \
	>"$tmp/allow"

tr '\n' '\0' <"$tmp/text" | xargs -0 awk -v allowfile="$tmp/allow" '
BEGIN {
	n_allow = 0
	while ((getline line < allowfile) > 0) {
		split(line, a, "\t")
		allow_file[++n_allow] = "^" a[1] "$"
		allow_text[n_allow] = "^" a[2] "$"
	}
	bad = 0
	# 1. outside material (character classes keep this file from matching)
	outside = "[.][.]/share[d]|share[d]/see[d]|see[d]/MODE[L][.]md|sqlite_backen[d][.]txt|checkpoin[t][.]txt|/wor[k]/"
}
function allowed(f, t,    i) {
	for (i = 1; i <= n_allow; i++)
		if (f ~ allow_file[i] && t ~ allow_text[i])
			return 1
	return 0
}
function report(msg) {
	printf "%s:%d: %s\n", FILENAME, FNR, msg
	bad++
}
function dirof(f,    d) {
	d = f
	if (sub(/\/[^\/]*$/, "", d) == 0)
		return ""
	return d
}
function depth(d,    n) {
	if (d == "")
		return 0
	return split(d, _parts, "/")
}
function exists(p,    q) {
	if (!(p in seen)) {
		q = p
		gsub(/\047/, "\047\\\047\047", q)          # quoted for sh
		seen[p] = (system("test -e \047" q "\047") == 0)
	}
	return seen[p]
}
# The path p relative to directory d, normalised; "" when it climbs above
# the top of the repository.
function resolve(d, p,    n, i, out, parts, k, m) {
	if (p ~ /^\//)
		p = substr(p, 2)                # root-relative
	else if (d != "")
		p = d "/" p
	n = split(p, parts, "/")
	m = 0
	for (i = 1; i <= n; i++) {
		if (parts[i] == "" || parts[i] == ".")
			continue
		if (parts[i] == "..") {
			if (m == 0)
				return ""
			m--
			continue
		}
		out[++m] = parts[i]
	}
	p = ""
	for (k = 1; k <= m; k++)
		p = p (k > 1 ? "/" : "") out[k]
	return p == "" ? "." : p
}
{
	line = $0
	d = dirof(FILENAME)
	if (match(line, outside))
		report("refers to something outside the repository: " substr(line, RSTART, RLENGTH + 20))

	# 2. relative paths that climb out: "../" not inside a longer path
	rest = line
	while (match(rest, /(^|[^A-Za-z0-9_.$\/)-])([.][.]\/)+[A-Za-z0-9_.-]*/)) {
		tok = substr(rest, RSTART, RLENGTH)
		sub(/^[^.]/, "", tok)
		rest = substr(rest, RSTART + RLENGTH)
		ups = gsub(/[.][.]\//, "&", tok)
		if (ups > depth(d))
			report("path climbs out of the repository: " tok)
	}

	# 3. names of Markdown files
	rest = line
	while (match(rest, /[A-Za-z0-9_.\/-]*[A-Za-z0-9_-][.]md([^A-Za-z0-9_]|$)/)) {
		tok = substr(rest, RSTART, RLENGTH)
		rest = substr(rest, RSTART + RLENGTH)
		sub(/[^A-Za-z0-9_]$/, "", tok)
		if (tok ~ /^\/\// || allowed(FILENAME, tok))
			continue
		if (tok ~ /^\//) {
			report("absolute path to a document: " tok)
			continue
		}
		r1 = resolve(d, tok)
		r2 = resolve("", tok)
		if ((r1 == "" || !exists(r1)) && (r2 == "" || !exists(r2)))
			report("no such document in the repository: " tok)
	}

	# 4. relative links of Markdown files: [text](target), [label]: target
	if (FILENAME !~ /[.]md$/)
		next
	rest = line
	targets = ""
	while (match(rest, /\]\([^) ]+( +"[^"]*")?\)/)) {
		t = substr(rest, RSTART + 2, RLENGTH - 3)
		sub(/ +".*$/, "", t)
		targets = targets "\n" t
		rest = substr(rest, RSTART + RLENGTH)
	}
	if (match(line, /^ *\[[^]]+\]: +[^ ]+/)) {
		t = line
		sub(/^ *\[[^]]+\]: +/, "", t)
		sub(/ .*$/, "", t)
		targets = targets "\n" t
	}
	n = split(targets, ts, "\n")
	for (i = 2; i <= n; i++) {
		t = ts[i]
		sub(/^</, "", t)
		sub(/>$/, "", t)
		if (t ~ /^[A-Za-z][A-Za-z0-9+.-]*:/ || t ~ /^#/ || t == "")
			continue                # a URL, mailto:, or an anchor
		sub(/[#?].*$/, "", t)
		r = resolve(d, t)
		if (r == "")
			report("link climbs out of the repository: " ts[i])
		else if (!exists(r))
			report("link to a missing file: " ts[i])
	}
}
END {
	if (bad) {
		printf "docs_check: %d problem(s)\n", bad
		exit 1
	}
}' || exit 1
echo "docs_check: $(wc -l <"$tmp/text") text files checked, no reference outside the repository"
