package org.malloc4j.cli.workload;

import org.malloc4j.cli.trace.Trace;

/**
 * Many small, short-lived blocks over a stable long-lived set: 20,000 long-lived blocks of typical sizes, then
 * 16-256 B blocks that each live 1 to 8 allocations (temporary strings, list nodes, iterators), with a
 * long-lived block replaced now and then. The long-lived set is still live at the end, as in a real program.
 */
final class ShortLivedWorkload {
    static final String NAME = "short-lived";
    private static final int LONG_LIVED = 20_000;
    private static final int STEPS = 140_000;
    /** Lifetimes are below this many steps; one bucket of dying ids per step. */
    private static final int BUCKETS = 16;

    private ShortLivedWorkload() {}

    static Trace generate() {
        Recorder r = new Recorder(NAME, 0x5348_4F52L, LONG_LIVED + 2 * STEPS + 4_000);
        IdSet longLived = new IdSet();
        for (int i = 0; i < LONG_LIVED; i++) longLived.add(r.alloc(Sizes.typical(r.random)));
        IdSet[] dying = new IdSet[BUCKETS];
        for (int b = 0; b < BUCKETS; b++) dying[b] = new IdSet();
        for (int step = 0; step < STEPS; step++) {
            int id = r.alloc(Sizes.small(r.random));
            dying[(step + 1 + r.random.nextInt(8)) % BUCKETS].add(id);
            IdSet now = dying[step % BUCKETS];
            while (now.size() > 0) r.free(now.removeLast());
            if (step % 100 == 99) {
                r.free(longLived.removeRandom(r.random));
                longLived.add(r.alloc(Sizes.typical(r.random)));
            }
        }
        for (IdSet bucket : dying) {
            while (bucket.size() > 0) r.free(bucket.removeLast());
        }
        return r.build();
    }
}
