package org.malloc4j.cli;

import java.util.SplittableRandom;
import org.malloc4j.cli.trace.Trace;
import org.malloc4j.cli.trace.TraceBuilder;

/** Small traces for tests. */
final class TestTraces {
    private TestTraces() {}

    /**
     * @return {@code ops} random allocs, frees and reallocs (sizes 0 B to 64 KiB, at most 500 ids), leaving some
     *         blocks live
     */
    static Trace mixed(String name, int ops, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int ids = 500;
        TraceBuilder b = new TraceBuilder(name, ids, ops, 0);
        long[] size = new long[ids];
        while (b.count() < ops) {
            int id = r.nextInt(ids);
            if (!b.isLive(id)) {
                size[id] = r.nextInt(20) == 0 ? r.nextLong(1 << 16) : r.nextLong(300);
                b.alloc(id, size[id]);
            } else if (r.nextInt(3) == 0) {
                b.realloc(id, size[id] = 1 + r.nextLong(2 * size[id] + 64));
            } else {
                b.free(id);
            }
        }
        return b.build();
    }
}
