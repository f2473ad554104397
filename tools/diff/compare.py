#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Compare the differential scenarios' output under Wine and under winvm.

usage: compare.py WINE_OUT WINVM_OUT_OR_CONSOLE_LOG

Both inputs hold the lines between WINVM-DIFF-BEGIN and WINVM-DIFF-END
(tools/diff/scenario.c); a guest console log may be given as it is: carriage
returns and kernel lines (printk timestamps) are dropped.  Scenarios are
compared line by line; every difference must be explained by one class of
tools/diff/wine-deviations.py (Wine departing from a Windows rule that
winvm follows), otherwise it is printed with both sides and the run fails.
Prints a summary and exits 0 when no difference is left unexplained.
"""
import difflib
import importlib.util
import os
import re
import sys

KERNEL_LINE = re.compile(r'^\s*\[\s*\d+\.\d+\]')


def load_deviations():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'wine-deviations.py')
    spec = importlib.util.spec_from_file_location('wine_deviations', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.DEVIATIONS


def read_lines(path):
    """The lines between the markers, or None if there are none."""
    out, inside, ended = [], False, False
    with open(path, 'rb') as f:
        for raw in f:
            line = raw.decode('utf-8', 'replace').replace('\r', '').rstrip('\n')
            if 'WINVM-DIFF-BEGIN' in line:
                inside, out = True, []
                continue
            if 'WINVM-DIFF-END' in line and inside:
                inside, ended = False, True
                continue
            if inside and not KERNEL_LINE.match(line):
                out.append(line)
    return out if ended else None


def scenarios(lines):
    """[(name, [lines])] in order; lines outside any scenario form ''."""
    res, cur, name = [], [], ''
    for line in lines:
        if line.startswith('S '):
            if cur:
                res.append((name, cur))
            name, cur = line[2:], [line]
        else:
            cur.append(line)
    if cur:
        res.append((name, cur))
    return res


def explain(wine, winvm, devs, state):
    """The class that explains a hunk (wine lines, winvm lines), or None."""
    for d in devs:
        if d['match'](wine, winvm, state):
            return d
    # Hunks of equal length: every line pair on its own.
    if len(wine) == len(winvm) and len(wine) > 1:
        found = []
        for k, (a, b) in enumerate(zip(wine, winvm)):
            if a == b:
                continue
            d = explain([a], [b], devs, dict(
                state, prev=wine[k - 1] if k else state.get('prev', ''),
                before=state.get('before', []) + wine[:k]))
            if not d:
                return None
            found.append(d)
        return found[0] if len(set(id(x) for x in found)) == 1 else found
    # Several calls in one hunk: each call with its exception lines on its
    # own, when both sides made the same calls.
    uw, uv = units(wine), units(winvm)
    if len(uw) > 1 and len(uw) == len(uv) and all(
            a[0].split(' -> ')[0] == b[0].split(' -> ')[0] for a, b in zip(uw, uv)):
        found, prev = [], state.get('prev', '')
        before = list(state.get('before', []))
        for a, b in zip(uw, uv):
            if a != b:
                d = explain(a, b, devs, dict(state, prev=prev, before=before))
                if not d:
                    return None
                found.extend(d if isinstance(d, list) else [d])
            prev = a[-1]
            before = before + a
        return found or None
    return None


def units(lines):
    """The lines grouped as calls: a call line and the exception lines after it."""
    res = []
    for line in lines:
        if line.startswith('  x ') and res:
            res[-1].append(line)
        else:
            res.append([line])
    return res


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().split('\n\n')[1], file=sys.stderr)
        return 2
    devs = load_deviations()
    wine_lines, winvm_lines = read_lines(sys.argv[1]), read_lines(sys.argv[2])
    for name, lines in (('Wine', wine_lines), ('winvm', winvm_lines)):
        if lines is None:
            print(f'diff: no complete WINVM-DIFF output from {name}')
            return 1
    ws, vs = scenarios(wine_lines), scenarios(winvm_lines)
    if [n for n, _ in ws] != [n for n, _ in vs]:
        print(f'diff: the two sides ran different scenarios ({len(ws)} vs {len(vs)})')
        return 1
    applied = {d['name']: 0 for d in devs}
    unexplained = 0
    compared = 0
    for (name, w), (_, v) in zip(ws, vs):
        compared += max(len(w), len(v))
        state = {}
        sm = difflib.SequenceMatcher(None, w, v, autojunk=False)
        for op, i1, i2, j1, j2 in sm.get_opcodes():
            if op == 'equal':
                continue
            state['prev'] = w[i1 - 1] if i1 else ''
            state['before'] = w[:i1]
            d = explain(w[i1:i2], v[j1:j2], devs, state)
            if d:
                for x in (d if isinstance(d, list) else [d]):
                    applied[x['name']] += 1
                continue
            unexplained += 1
            if unexplained <= 40:
                ctx = w[max(0, i1 - 3):i1]
                print(f'diff: scenario {name}: unexplained difference')
                for line in ctx:
                    print(f'    both:  {line}')
                for line in w[i1:i2]:
                    print(f'    wine:  {line}')
                for line in v[j1:j2]:
                    print(f'    winvm: {line}')
    print(f'diff: {len(ws)} scenarios, {compared} lines compared')
    for d in devs:
        if applied[d['name']]:
            print(f"diff: deviation {d['name']} ({d['rule']}): {applied[d['name']]} differences")
    print(f'diff: unexplained differences: {unexplained}')
    return 1 if unexplained else 0


if __name__ == '__main__':
    sys.exit(main())
