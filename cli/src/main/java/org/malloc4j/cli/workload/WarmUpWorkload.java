package org.malloc4j.cli.workload;

import org.malloc4j.cli.trace.Trace;

/**
 * A short trace run before the first real one and not reported: it gets the replay loops and the allocator's
 * paths compiled, so that neither the first trace's time nor its peak RSS (the JIT compilers' memory) pays for
 * it. Small in memory (at most 200 blocks, about 300 KiB, live): a native allocator cannot be made fresh, so
 * whatever the warm-up makes resident in it, the first trace reuses without counting it in its peak RSS.
 */
final class WarmUpWorkload {
    static final String NAME = "warm-up";
    private static final int OPS = 60_000;
    private static final int MAX_LIVE = 200;

    private WarmUpWorkload() {}

    static Trace generate() {
        Recorder r = new Recorder(NAME, 0x5741_524DL, OPS + MAX_LIVE);
        while (r.ops() < OPS) {
            int u = r.random.nextInt(10);
            if (r.liveCount() > 0 && (u < 4 || r.liveCount() >= MAX_LIVE)) {
                r.freeRandom();
            } else if (r.liveCount() > 0 && u == 4) {
                int id = r.randomLive();
                r.realloc(id, 1 + r.size(id) + r.random.nextInt(256));
            } else {
                r.alloc(Sizes.logUniform(r.random, 8, u == 9 ? 64 << 10 : 1024));
            }
        }
        return r.build();
    }
}
