#!/usr/bin/env python3
"""lint: check what ../shared/STYLE.md promises, on every C file in git.

  banned     no strcpy, strcat, sprintf, vsprintf, gets
  columns    80 columns at most (tabs to 8)
  return     one return style: `return x;`, never `return (x);`
  includes   dependencies run one way: nothing under store/ includes
             consumers/, daemon/ or a JSON, HTTP or Kafka library;
             nothing under consumers/ includes daemon/
  length     a function (or a Criterion Test) 60 lines at most; a
             source file outside tests/ 800 lines at most
  prefix     every global symbol of an object under build/ starts with
             its module's name (folder), its file's, or its program's
             (revokerctl: ctl_, gen_; the store: store_), but main and
             the logger's fatal/fatalx (when build/ exists)

Prints each finding as FILE:LINE: what, and exits 1 if there is any.
"""
import os
import re
import subprocess
import sys

FUNC_MAX = 60
FILE_MAX = 800
COLS = 80

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(ROOT)

BANNED = re.compile(r'\b(strcpy|strcat|sprintf|vsprintf|gets)\s*\(')
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
RETURN = re.compile(r'\breturn \(')
FORBIDDEN = {
    'store/': ('consumers/', 'daemon/', 'jansson.h', 'event2/',
               'librdkafka/', 'curl/'),
    'consumers/': ('daemon/',),
}
PROGRAM_PREFIX = {'revokerctl': ('ctl_', 'gen_'), 'graph': ('store_',)}
ALWAYS = {'main', 'fatal', 'fatalx'}

findings = []


def say(path, line, what):
    findings.append('%s:%d: %s' % (path, line, what))


def code_of(line, in_comment):
    """The code of line: comments dropped, string and char literals
    emptied.  in_comment: a comment is open at its start.  Returns the
    code and whether a comment is open at its end."""
    out, i, q = [], 0, None
    while i < len(line):
        c = line[i]
        if in_comment:
            if line.startswith('*/', i):
                in_comment = False
                i += 2
                continue
        elif q:
            if c == '\\':
                i += 2
                continue
            if c == q:
                q = None
                out.append(c)
        elif line.startswith('/*', i):
            in_comment = True
            i += 2
            continue
        elif line.startswith('//', i):
            break
        else:
            if c in '"\'':
                q = c
            out.append(c)
        i += 1
    return ''.join(out), in_comment


def whole_paren_return(text, start):
    """Does `return (` at start enclose the whole expression?"""
    depth, i, q = 1, start, None
    while i < len(text) and depth > 0:
        c = text[i]
        if q:
            if c == '\\':
                i += 2
                continue
            if c == q:
                q = None
        elif c in '"\'':
            q = c
        elif c == '(':
            depth += 1
        elif c == ')':
            depth -= 1
        i += 1
    rest = text[i:].lstrip(' \t')
    return depth == 0 and rest.startswith(';')


def check_file(path):
    text = open(path, encoding='utf-8', errors='replace').read()
    lines = text.split('\n')
    if text.endswith('\n'):
        lines.pop()
    if not path.startswith('tests/') and len(lines) > FILE_MAX:
        say(path, len(lines), 'file of %d lines (at most %d)'
            % (len(lines), FILE_MAX))
    in_comment = False
    func_start = None
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    for n, line in enumerate(lines, 1):
        if len(line.expandtabs(8)) > COLS:
            say(path, n, 'line of %d columns (at most %d)'
                % (len(line.expandtabs(8)), COLS))
        code, in_comment = code_of(line, in_comment)
        if BANNED.search(code):
            say(path, n, 'forbidden function: %s'
                % BANNED.search(code).group(1))
        if RETURN.search(code):
            col = line.find('return (')
            if col >= 0 and whole_paren_return(text, offsets[n - 1] + col
                                               + len('return (')):
                say(path, n, 'return (x); write return x;')
        inc = INCLUDE.match(line)
        if inc:
            for top, bad in FORBIDDEN.items():
                if path.startswith(top) and inc.group(2).startswith(bad):
                    say(path, n, 'include of %s: dependencies run '
                        'daemon -> consumers -> store' % inc.group(2))
        if line == '{':
            func_start = n
        elif line == '}' and func_start is not None:
            body = n - func_start - 1
            if body > FUNC_MAX:
                name = '?'
                for k in range(func_start - 2, max(func_start - 8, -1), -1):
                    mm = re.match(r'^(Test\([^)]*\)|[A-Za-z_]\w*)\(?',
                                  lines[k])
                    if mm and not lines[k].startswith(('static', 'int',
                                                       'void', 'struct')):
                        name = mm.group(1)
                        break
                say(path, func_start, 'function %s of %d lines (at most '
                    '%d)' % (name, body, FUNC_MAX))
            func_start = None


def check_symbols():
    if not os.path.isdir('build'):
        return
    objs = []
    for top in ('daemon', 'consumers', 'store'):
        for dirpath, _, names in os.walk(os.path.join('build', top)):
            objs += [os.path.join(dirpath, x) for x in names
                     if x.endswith('.o')]
    for o in sorted(objs):
        module = os.path.basename(os.path.dirname(o))
        base = os.path.basename(o)[:-2]
        src = os.path.relpath(o, 'build')[:-2] + '.c'
        ok = (module + '_', base + '_') + PROGRAM_PREFIX.get(module, ())
        try:
            out = subprocess.run(['nm', '-g', '--defined-only', o],
                                 capture_output=True, text=True,
                                 check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            continue
        for row in out.splitlines():
            parts = row.split()
            if len(parts) != 3 or parts[1] not in 'TDBRC':
                continue
            sym = parts[2]
            if sym in ALWAYS or sym.startswith(ok):
                continue
            say(src, 1, 'global symbol %s without its module\'s prefix '
                '(%s)' % (sym, ', '.join(ok)))


def main():
    files = subprocess.run(['git', 'ls-files', '*.c', '*.h'],
                           capture_output=True, text=True,
                           check=True).stdout.split()
    for f in files:
        check_file(f)
    check_symbols()
    for f in findings:
        print(f, file=sys.stderr)
    if findings:
        print('lint: %d findings' % len(findings), file=sys.stderr)
        return 1
    print('lint: ok (%d files)' % len(files))
    return 0


if __name__ == '__main__':
    sys.exit(main())
