#!/usr/bin/env python3
"""readme_commands.py README STATELOG: every shell command of README.md's
```sh blocks runs as written, in order, in a fresh directory, with the
program under test first on PATH; any that exits non-zero fails the test.

A few are not run here, each for a stated reason (printed):
  - `sh tools/scripts/...`: the quick start and the test suite themselves
    (this test is part of the latter; CI runs both from a clean clone);
  - `meson ...` and `cc ...`: the install and the C example, built and run
    by tests/tools/install_test.sh;
  - `statelog bench ...`: minutes long; run with --help appended instead,
    so that the command and every option it names are still checked.
Commands ending in `--follow` are stopped with SIGINT after two seconds and
must then exit 0.  HOME is a fresh directory holding what the import
commands read (~/.orchestrator/state.db: a database in the original's
layout, the views the earlier commands made; states/: a state file written
by `statelog show --json`).
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile


def commands(readme):
    """The commands of the ```sh blocks: lines joined where one ends in a
    backslash or a pipe, comments and blank lines left out."""
    out = []
    text = open(readme, encoding="utf-8").read()
    for block in re.findall(r"^```sh\n(.*?)^```", text, re.M | re.S):
        cur = ""
        for line in block.splitlines():
            if not cur and (not line.strip() or line.lstrip().startswith("#")):
                continue
            cur += line + "\n"
            bare = re.sub(r"\s+#[^'\"]*$", "", line).rstrip()
            if bare.endswith("\\") or bare.endswith("|"):
                continue
            out.append(cur.rstrip("\n"))
            cur = ""
        if cur:
            out.append(cur.rstrip("\n"))
    return out


def main():
    readme, exe = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    work = tempfile.mkdtemp(prefix="readme-commands-")
    failures, ran, skipped = [], 0, 0
    try:
        bindir = os.path.join(work, "bin")
        os.mkdir(bindir)
        os.symlink(exe, os.path.join(bindir, "statelog"))
        home = os.path.join(work, "home")
        os.makedirs(os.path.join(home, ".orchestrator", "states"))
        cwd = os.path.join(work, "run")
        os.mkdir(cwd)
        env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""),
                   HOME=home, TZ="UTC")
        env.pop("STATELOG_LOG", None)
        cmds = commands(readme)
        if len(cmds) < 20:
            failures.append(f"only {len(cmds)} commands found in {readme}")
        for cmd in cmds:
            first = cmd.split()[0]
            if first in ("sh", "meson", "cc"):
                print(f"not run here: {cmd.splitlines()[0]}  (see this file's header)")
                skipped += 1
                continue
            run = cmd
            if re.match(r"statelog bench\b", cmd):
                run = re.sub(r"\s+#.*$", "", cmd) + " --help"
            if "statelog import" in cmd and not os.path.exists(
                    os.path.join(home, ".orchestrator", "state.db")):
                # the original's layout: the views of the log made above
                shutil.copy(os.path.join(cwd, "jobs.db"),
                            os.path.join(home, ".orchestrator", "state.db"))
                with open(os.path.join(home, ".orchestrator", "states", "nightly.json"),
                          "w") as f:
                    subprocess.run([exe, "show", "nightly", "--log", "jobs.log", "--json"],
                                   cwd=cwd, stdout=f, check=True)
            follow = "--follow" in re.sub(r"\s+#.*$", "", cmd)
            if follow:
                run = "exec " + run   # the signal reaches statelog itself
            p = subprocess.Popen(["sh", "-c", run], cwd=cwd, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 start_new_session=True)
            try:
                out, err = p.communicate(timeout=2 if follow else 600)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGINT)
                out, err = p.communicate(timeout=30)
            ran += 1
            if p.returncode != 0:
                failures.append(f"exit {p.returncode}: {cmd}\n    "
                                + err.decode(errors="replace").strip().replace("\n", "\n    "))
            elif follow and p.returncode == 0 and not out and "dump" in cmd:
                failures.append(f"printed nothing: {cmd}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for f in failures:
        print("FAIL", f)
    print(f"{ran - len(failures)} passed, {len(failures)} failed ({skipped} not run here)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
