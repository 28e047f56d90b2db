package org.malloc4j.cli.workload;

import org.malloc4j.cli.trace.Trace;

/**
 * A mix with large blocks: churn over a working set of about 30,000 typical blocks, with 1-8 MiB blocks (buffers,
 * images, hash tables) allocated about once in 1,000 ops, living a few thousand ops (about five live at a time),
 * sometimes resized by realloc. Everything is freed at the end.
 */
final class LargeMixWorkload {
    static final String NAME = "large-mix";
    private static final int WORKING_SET = 30_000;
    private static final int OPS = 300_000;

    private LargeMixWorkload() {}

    static Trace generate() {
        Recorder r = new Recorder(NAME, 0x4C41_5247L, OPS + WORKING_SET);
        IdSet small = new IdSet();
        IdSet large = new IdSet();
        for (int i = 0; i < WORKING_SET; i++) small.add(r.alloc(Sizes.typical(r.random)));
        while (r.ops() < OPS) {
            int u = r.random.nextInt(10_000);
            if (u < 10) {
                large.add(r.alloc(Sizes.large(r.random)));
            } else if (u < 10 + 2 * large.size()) {
                r.free(large.removeRandom(r.random));
            } else if (u < 13 + 2 * large.size() && large.size() > 0) {
                int id = large.get(r.random.nextInt(large.size()));
                long resized = r.size(id) / 2 + r.random.nextLong(r.size(id) + 1);
                r.realloc(id, Math.clamp(resized, 1 << 20, 12 << 20));
            } else if (r.random.nextInt(2 * WORKING_SET) < WORKING_SET + (WORKING_SET - small.size())) {
                small.add(r.alloc(Sizes.typical(r.random)));
            } else {
                r.free(small.removeRandom(r.random));
            }
        }
        while (large.size() > 0) r.free(large.removeRandom(r.random));
        while (small.size() > 0) r.free(small.removeRandom(r.random));
        return r.build();
    }
}
