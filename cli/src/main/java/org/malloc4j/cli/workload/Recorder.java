package org.malloc4j.cli.workload;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.malloc4j.cli.trace.Trace;
import org.malloc4j.cli.trace.TraceBuilder;

/**
 * What a generator writes through: hands out ids the way the recorded traces do (a freed id is reused first),
 * keeps the live ids in an array for picking one at random, and appends each op to a {@link TraceBuilder}.
 */
final class Recorder {
    final SplittableRandom random;
    private final TraceBuilder trace;

    private int[] freeIds = new int[1024];
    private int freeCount;
    private int nextId;

    /** The live ids, in no order; {@code slot[id]} is each one's index here. */
    private int[] live = new int[1024];
    private int liveCount;
    private int[] slot = new int[1024];
    private long[] size = new long[1024];

    Recorder(String name, long seed, int expectedOps) {
        this.random = new SplittableRandom(seed);
        this.trace = new TraceBuilder(name, Trace.MAX_IDS, expectedOps, 0);
    }

    /** @return the id of a new block of {@code bytes} */
    int alloc(long bytes) {
        int id = freeCount > 0 ? freeIds[--freeCount] : nextId++;
        if (id >= slot.length) {
            slot = Arrays.copyOf(slot, slot.length * 2);
            size = Arrays.copyOf(size, size.length * 2);
        }
        if (liveCount == live.length) live = Arrays.copyOf(live, live.length * 2);
        trace.alloc(id, bytes);
        slot[id] = liveCount;
        live[liveCount++] = id;
        size[id] = bytes;
        return id;
    }

    void free(int id) {
        trace.free(id);
        int s = slot[id];
        int last = live[--liveCount];
        live[s] = last;
        slot[last] = s;
        if (freeCount == freeIds.length) freeIds = Arrays.copyOf(freeIds, freeIds.length * 2);
        freeIds[freeCount++] = id;
    }

    void realloc(int id, long bytes) {
        trace.realloc(id, bytes);
        size[id] = bytes;
    }

    /** @return the current size of live block {@code id} */
    long size(int id) {
        return size[id];
    }

    boolean isLive(int id) {
        return trace.isLive(id);
    }

    int liveCount() {
        return liveCount;
    }

    /** @return a live id picked uniformly; there must be one */
    int randomLive() {
        return live[random.nextInt(liveCount)];
    }

    /** Frees a live block picked uniformly. */
    void freeRandom() {
        free(randomLive());
    }

    int ops() {
        return trace.count();
    }

    Trace build() {
        return trace.build();
    }
}
