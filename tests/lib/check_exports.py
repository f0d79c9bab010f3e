#!/usr/bin/env python3
"""check_exports.py NM LIBRARY INCLUDEDIR GCC...: libstatelog.so exports
exactly the public API.

The exported symbols are what `nm -D --defined-only` lists.  The public
API is found from the installed headers themselves, not from SL_API (a
declaration that lacks it must show up as missing):
  - functions: every prototype the compiler reports (gcc -aux-info) for a
    translation unit that includes <statelog/statelog.h>, declared in a
    file under INCLUDEDIR/statelog;
  - variables: every `extern` declaration of an object at file scope in
    the preprocessed headers (a variable in a header must be extern, or it
    would be a definition).
Fails on an exported symbol that is not declared in the headers, a public
declaration that is not exported, and a function exported as data or the
reverse.  Prints the lists and one line per problem.
"""
import os
import re
import subprocess
import sys
import tempfile

FUNCTION_TYPES = set('TtWwi')     # text, weak, indirect function
DATA_TYPES = set('DdBbRrGgSsVv')  # data, bss, read-only, small, weak object


def exported(nm, lib):
    """{name: 'function' | 'variable'} of the library's defined dynamic symbols."""
    out = subprocess.run([nm, '-D', '--defined-only', '-P', lib], check=True,
                         capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0].split('@')[0], parts[1]
        if kind in ('A', 'a'):   # a version node's name, not a symbol
            continue
        syms[name] = ('function' if kind in FUNCTION_TYPES else
                      'variable' if kind in DATA_TYPES else 'other:' + kind)
    return syms


def declared(cc, incdir):
    """{name: 'function' | 'variable'} declared by the public headers."""
    public = os.path.join(os.path.abspath(incdir), 'statelog') + os.sep
    decls = {}
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, 'all.c')
        aux = os.path.join(tmp, 'aux.txt')
        with open(src, 'w') as f:
            f.write('#include <statelog/statelog.h>\n')
        subprocess.run(cc + ['-std=gnu11', '-I' + incdir, '-aux-info', aux, '-c', '-o',
                             os.path.join(tmp, 'all.o'), src], check=True)
        # "/* FILE:LINE:NC */ extern int sl_log_open (sl_log **, ...);"
        for line in open(aux):
            m = re.match(r'/\* (\S+):\d+:\w+ \*/ (.*)$', line)
            if not m or not os.path.abspath(m.group(1)).startswith(public):
                continue
            name = re.search(r'(\w+) \(', m.group(2))
            if name:
                decls[name.group(1)] = 'function'
        pre = subprocess.run(cc + ['-std=gnu11', '-I' + incdir, '-E', src], check=True,
                             capture_output=True, text=True).stdout
    # The preprocessed text of the public headers only (line markers say
    # where each line comes from), attributes removed.
    text, keep = [], False
    for line in pre.splitlines():
        m = re.match(r'# \d+ "([^"]+)"', line)
        if m:
            keep = os.path.abspath(m.group(1)).startswith(public)
        elif keep:
            text.append(line)
    text = re.sub(r'__attribute__\s*\(\((?:[^()]|\([^()]*\))*\)\)', ' ', '\n'.join(text))
    # File-scope statements: drop the bodies of struct, union and enum.
    flat, depth = [], 0
    for ch in text:
        if ch == '{':
            depth += 1
        elif ch == '}':
            depth -= 1
        elif depth == 0:
            flat.append(ch)
    for stmt in ''.join(flat).split(';'):
        stmt = ' '.join(stmt.split())
        if not re.match(r'(extern "C" )?extern\b', stmt) or '(' in stmt:
            continue
        m = re.search(r'(\w+)\s*(\[[^\]]*\]\s*)*$', stmt)
        if m:
            decls[m.group(1)] = 'variable'
    return decls


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    nm, lib, incdir, cc = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    exp = exported(nm, lib)
    dec = declared(cc, incdir)
    problems = []
    for name in sorted(set(exp) - set(dec)):
        problems.append('exported but not declared in the public headers: %s (%s)'
                        % (name, exp[name]))
    for name in sorted(set(dec) - set(exp)):
        problems.append('declared public but not exported (SL_API missing?): %s (%s)'
                        % (name, dec[name]))
    for name in sorted(set(dec) & set(exp)):
        if dec[name] != exp[name]:
            problems.append('%s is declared a %s but exported as a %s' % (name, dec[name], exp[name]))
    n_fun = sum(1 for k in dec.values() if k == 'function')
    print('%s: %d symbols exported; the headers declare %d functions and %d variables'
          % (os.path.basename(lib), len(exp), n_fun, len(dec) - n_fun))
    for p in problems:
        print('FAIL ' + p)
    # Sanity: a parse that finds nothing would pass vacuously.
    if n_fun < 100 or len(dec) == n_fun:
        problems.append('too few declarations found: the header parse is broken')
        print('FAIL ' + problems[-1])
    print('%d passed, %d failed' % (1 if not problems else 0, len(problems)))
    sys.exit(1 if problems else 0)


if __name__ == '__main__':
    main()
