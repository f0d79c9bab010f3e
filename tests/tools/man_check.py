#!/usr/bin/env python3
"""man_check.py STATELOG MANPAGE: the manual page statelog(1) and the
program's --help cannot drift apart.

For the program and for every command `statelog --help` lists:
  1. the man page has a section (.SS "statelog COMMAND ...") for it, and
     no section names a command the program does not have;
  2. the options of the command's usage lines (its --help up to the first
     blank line) are exactly the options of the section's synopsis;
  3. every option the --help mentions anywhere is named in the section;
  4. the --help lists the exit codes ("Exit codes:"), each code it names is
     one of statelog(1)'s EXIT STATUS, and `statelog --help` names them all.
For bench, the section names each kind (log, rebuild, backend, timetravel),
whose options are left to its --help, which must list the exit codes.
Prints each failure and a count; exits 1 on any.
"""
import re
import subprocess
import sys

OPT = re.compile(r"--[a-z][a-z-]*")


def run_help(exe, *args):
    out = subprocess.run([exe, *args, "--help"], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(args)} --help exited {out.returncode}")
    return out.stdout


def usage_part(text):
    return text.split("\n\n", 1)[0]


def roff_text(s):
    """The words of roff source: font escapes gone, \\- as -."""
    s = re.sub(r"\\f[BIRP]", "", s)
    s = s.replace("\\-", "-").replace("\\(rs", "\\")
    return s


def main():
    exe, man_path = sys.argv[1], sys.argv[2]
    man = open(man_path, encoding="utf-8").read()
    failures = []
    checks = 0

    def check(ok, what):
        nonlocal checks
        checks += 1
        if not ok:
            failures.append(what)

    # The sections: .SS "statelog NAME ..." up to the next .SS or .SH.
    sections = {}
    for m in re.finditer(r'^\.SS "statelog ([a-z]+)(.*?)"\n(.*?)(?=^\.S[SH] )', man,
                         re.M | re.S):
        name, synopsis, body = m.group(1), roff_text(m.group(2)), roff_text(m.group(3))
        sec = sections.setdefault(name, {"synopsis": set(), "text": ""})
        sec["synopsis"] |= set(OPT.findall(synopsis))
        sec["text"] += synopsis + "\n" + body

    top = run_help(exe)
    commands = re.findall(r"^  ([a-z]+) ", top.split("commands:", 1)[1].split("\n\n")[0], re.M)
    check(len(commands) > 10, f"`statelog --help` lists only {commands}")
    check(set(commands) == set(sections),
          f"commands of --help {sorted(set(commands) - set(sections))} have no man section; "
          f"man sections {sorted(set(sections) - set(commands))} name no command")

    codes_man = set(re.findall(r"^\.TP\n\.B (\d)\n",
                               man.split('.SH "EXIT STATUS"', 1)[1].split("\n.SH", 1)[0], re.M))
    check(codes_man == {"0", "1", "2", "3", "4", "5"}, f"EXIT STATUS lists {sorted(codes_man)}")
    check(all(f"{c} " in top.split("Exit codes:", 1)[-1] for c in codes_man),
          "`statelog --help` does not name every exit code")

    def check_help(label, text, sec):
        usage = set(OPT.findall(usage_part(text))) - {"--help"}
        check(usage == sec["synopsis"] - {"--help"},
              f"{label}: usage has {sorted(usage - sec['synopsis'])} that the man synopsis "
              f"lacks, the man synopsis {sorted(sec['synopsis'] - usage)} that the usage lacks")
        missing = sorted(o for o in set(OPT.findall(text)) if o not in sec["text"])
        check(not missing, f"{label}: --help names {missing}, its man section does not")
        m = re.search(r"Exit codes: (.*?)(?:\n\n|\Z)", text, re.S)
        check(m is not None, f"{label}: --help does not list its exit codes")
        if m:
            named = set(re.findall(r"(?:^|[;,] ?|\n)(\d) ", m.group(1)))
            check(named and named <= codes_man,
                  f"{label}: exit codes {sorted(named)} are not those of statelog(1)")

    for c in commands:
        if c not in sections:
            continue
        if c == "bench":
            kinds = re.findall(r"statelog bench ([a-z]+) ", run_help(exe, "bench"))
            check(set(kinds) == {"log", "rebuild", "backend", "timetravel"},
                  f"bench --help lists kinds {kinds}")
            for k in kinds:
                check(k in sections["bench"]["text"], f"bench {k}: not in the man page")
                text = run_help(exe, "bench", k)
                check("Exit codes:" in text, f"bench {k}: --help does not list its exit codes")
            continue
        check_help(c, run_help(exe, c), sections[c])

    for f in failures:
        print("FAIL:", f)
    print(f"{checks - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
