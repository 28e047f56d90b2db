#!/usr/bin/env python3
"""Writes a random malloc-lab trace (.rep) of many live blocks freed in random order: a stress for metadata that
leaves the caches and for the page layer's policies at a steady state, not modelled on any one program.

    python3 scripts/random-trace.py OPS OUT.rep [SEED]

Up to 40,000 blocks live at once; an allocation is 1-256 B three times in four and 256-8,192 B otherwise, except one
in twenty, which is 1-256 B, 256-8,192 B or 8,192-300,000 B (so about one allocation in 460 is a page run of its own,
above 256 KiB); a free takes a random live block. Deterministic for a seed (default 1). The 10-million-operation
trace of docs/benchmarks.md (2026-12-07, "A random trace at its peak") is `random-trace.py 10000000 big.rep`
(97 MB; replay it with `./malloc4j replay --no-rehearsal big.rep`, and `-a tcmalloc` beside it).
"""
import random
import sys


def main():
    if len(sys.argv) not in (3, 4) or not sys.argv[1].isdigit():
        sys.exit("usage: random-trace.py OPS OUT.rep [SEED]")
    n, out = int(sys.argv[1]), sys.argv[2]
    random.seed(int(sys.argv[3]) if len(sys.argv) == 4 else 1)
    live, free_ids, lines = {}, [], []
    next_id = cur = peak = 0
    while len(lines) < n:
        if live and (len(live) > 40000 or random.random() < 0.45):
            i = random.choice(list(live.keys())) if len(live) < 100 else random.randrange(next_id)
            if i not in live:
                continue
            cur -= live.pop(i)
            lines.append('f %d' % i)
            free_ids.append(i)
        else:
            i = free_ids.pop() if free_ids else next_id
            if i == next_id:
                next_id += 1
            if random.random() < 0.05:
                s = random.choice([random.randint(1, 256), random.randint(256, 8192), random.randint(8192, 300000)])
            else:
                s = random.choice([random.randint(1, 256)] * 3 + [random.randint(256, 8192)])
            live[i] = s
            cur += s
            peak = max(peak, cur)
            lines.append('a %d %d' % (i, s))
    with open(out, 'w') as f:
        f.write('%d\n%d\n%d\n1\n' % (peak, next_id, len(lines)))
        f.write('\n'.join(lines))
        f.write('\n')


if __name__ == '__main__':
    main()
