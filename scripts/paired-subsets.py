#!/usr/bin/env python3
"""Paired differences of `buddy eval` runs on the same examples, over all eight tasks and without BoolQ, and the
share of BoolQ questions each method answered "yes" (RESULTS.md, sessions 33, 34 and 38; a run of fewer tasks is
labelled by its own count).

usage: scripts/paired-subsets.py RESULTS.json:NAME,NAME... [RESULTS.json:NAME...]

Each results.json is named method by method in its own order (a run of BUDDY and two SLEB plans: buddy,sleb,sleb256).
Runs of different files pair with each other: the evaluation is deterministic, so the same examples get the same
outcomes whichever run scored them. The first method named "buddy" at each budget is the one the others are
subtracted from. The BoolQ labels come from $BUDDY_TEST_DATA (default ../shared)/datasets/boolq/boolq.mc.jsonl.
"""
import json
import math
import os
import sys

shared = os.environ.get('BUDDY_TEST_DATA', '../shared')
gold = [json.loads(line)['label'] for line in open(os.path.join(shared, 'datasets/boolq/boolq.mc.jsonl'))]


def mean(outcomes, n=None, skip=()):
    tasks = [t for t in outcomes if t not in skip]
    return 100 * sum(sum(c == '1' for c in outcomes[t][:n]) / len(outcomes[t][:n]) for t in tasks) / len(tasks)


def paired(a, b, n=None, skip=()):
    """Mean over tasks of the per-task mean difference, and its standard error (tasks independent)."""
    tasks = [t for t in a if t not in skip]
    diff = 0
    var = 0
    for t in tasks:
        x = [int(p) - int(q) for p, q in zip(a[t][:n], b[t][:n])]
        mu = sum(x) / len(x)
        diff += mu
        var += sum((v - mu) ** 2 for v in x) / (len(x) - 1) / len(x)
    return 100 * diff / len(tasks), 100 * math.sqrt(var) / len(tasks)


def yes_share(outcomes):
    """A yes/no answer is "yes" when it is right on a "yes" question or wrong on a "no" one."""
    b = outcomes['boolq']
    return 100 * sum((c == '1') == (g == 1) for c, g in zip(b, gold)) / len(b)


runs = {}
for arg in sys.argv[1:]:
    path, names = arg.rsplit(':', 1)
    for name, r in zip(names.split(','), json.load(open(path))['results'], strict=True):
        runs[(name, r['budget'])] = {t: v['outcomes'] for t, v in r['tasks'].items()}
for budget in sorted({b for _, b in runs}, reverse=True):
    here = sorted(((m, o) for (m, b), o in runs.items() if b == budget), key=lambda x: x[0] != 'buddy')
    print(f'\n== b = {budget}')
    tasks = f'{len(here[0][1])}-task'
    print(f'{"method":12s} | n/task | {tasks} | without BoolQ | BoolQ | BoolQ "yes" % | {tasks}, first 150')
    for m, o in here:
        n = sorted({len(v) for v in o.values()})
        print(f'{m:12s} | {n} | {mean(o):6.2f} | {mean(o, skip=("boolq",)):6.2f} | '
              f'{mean({"boolq": o["boolq"]}):6.2f} | {yes_share(o):5.1f} | {mean(o, 150):6.2f}')
    base = here[0][1]
    print(f'{here[0][0]} minus each: {tasks} / without BoolQ (all examples); {tasks} on the first 150, ± paired SE')
    for m, o in here[1:]:
        d8, s8 = paired(base, o)
        d7, s7 = paired(base, o, skip=('boolq',))
        d150, s150 = paired(base, o, 150)
        print(f'  {m:12s} {d8:+5.2f} ± {s8:4.2f} / {d7:+5.2f} ± {s7:4.2f}   (150: {d150:+5.2f} ± {s150:4.2f})')
    print('per task:', ', '.join(base))
    for m, o in here:
        print(f'  {m:12s}', ' '.join(f'{100 * sum(c == "1" for c in o[t]) / len(o[t]):5.1f}' for t in base))
