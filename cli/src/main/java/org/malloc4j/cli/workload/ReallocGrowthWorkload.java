package org.malloc4j.cli.workload;

import org.malloc4j.cli.trace.Trace;

/**
 * Growth by realloc: 1,500 objects in flight, 70% strings that grow by appends of 1-64 bytes (one realloc per
 * append, to the exact new length) up to 256 B-16 KiB, and 30% vectors that double their capacity up to
 * 1-256 KiB, a third of them shrinking to fit before they are freed. A finished object is freed and replaced.
 */
final class ReallocGrowthWorkload {
    static final String NAME = "realloc-growth";
    private static final int OBJECTS = 1_500;
    private static final int OPS = 300_000;

    private ReallocGrowthWorkload() {}

    static Trace generate() {
        Recorder r = new Recorder(NAME, 0x5245_414CL, OPS + 4 * OBJECTS);
        int[] id = new int[OBJECTS];
        boolean[] vector = new boolean[OBJECTS];
        long[] target = new long[OBJECTS];
        for (int o = 0; o < OBJECTS; o++) start(r, o, id, vector, target);
        while (r.ops() < OPS) {
            int o = r.random.nextInt(OBJECTS);
            long size = r.size(id[o]);
            if (!vector[o]) {
                long grown = size + 1 + r.random.nextInt(64);
                if (grown > target[o]) {
                    r.free(id[o]);
                    start(r, o, id, vector, target);
                } else {
                    r.realloc(id[o], grown);
                }
            } else if (size * 2 > target[o]) {
                if (r.random.nextInt(3) == 0) r.realloc(id[o], size / 2 + 1 + r.random.nextLong(size / 2));
                r.free(id[o]);
                start(r, o, id, vector, target);
            } else {
                r.realloc(id[o], size * 2);
            }
        }
        return r.build();
    }

    private static void start(Recorder r, int o, int[] id, boolean[] vector, long[] target) {
        vector[o] = r.random.nextInt(10) < 3;
        target[o] = vector[o] ? Sizes.logUniform(r.random, 1 << 10, 256 << 10)
                : Sizes.logUniform(r.random, 256, 16 << 10);
        id[o] = r.alloc(16 + r.random.nextInt(49));
    }
}
