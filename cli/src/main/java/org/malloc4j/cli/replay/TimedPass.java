package org.malloc4j.cli.replay;

import static org.malloc4j.cli.replay.AddressSpace.ALL;
import static org.malloc4j.cli.replay.AddressSpace.LONG;

import java.lang.foreign.ValueLayout;
import org.malloc4j.anchors.Allocator;
import org.malloc4j.cli.trace.Trace;

/**
 * The timed pass: the trace's operations with nothing but the allocator calls and a write of the first and last
 * 8 bytes of each new block (as a program would at least touch what it gets). No checks, no objects created.
 */
final class TimedPass {
    private TimedPass() {}

    /**
     * Replays {@code trace} on {@code allocator}, then frees what the trace leaves live (not timed).
     *
     * @return the wall time of the operations, in nanoseconds
     * @throws IllegalStateException if the allocator returns NULL (the blocks it gave are freed first)
     */
    static long run(Trace trace, Allocator allocator) {
        long[] address = new long[trace.idSpan()];
        try {
            return replay(trace, allocator, address);
        } finally {
            for (long p : address) {
                if (p != 0) allocator.free(p);
            }
        }
    }

    private static long replay(Trace trace, Allocator allocator, long[] address) {
        int n = trace.size();
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            int id = trace.id(i);
            switch (trace.kind(i)) {
                case Trace.ALLOC -> {
                    long s = trace.size(i);
                    long p = allocator.malloc(s);
                    if (p == 0 && s > 0) throw nullBlock(trace, i);
                    touch(p, s);
                    address[id] = p;
                }
                case Trace.FREE -> {
                    allocator.free(address[id]);
                    address[id] = 0;
                }
                default -> {
                    long s = trace.size(i);
                    long p = allocator.realloc(address[id], s);
                    if (p == 0) throw nullBlock(trace, i); // the old block is still there, and freed
                    touch(p, s);
                    address[id] = p;
                }
            }
        }
        return System.nanoTime() - t0;
    }

    private static IllegalStateException nullBlock(Trace trace, int i) {
        return new IllegalStateException(trace.where(i) + " (" + trace.describe(i) + ") returned NULL");
    }

    private static void touch(long p, long s) {
        if (s >= 8) {
            ALL.set(LONG, p, s);
            ALL.set(LONG, p + s - 8, s);
        } else if (s > 0) {
            ALL.set(ValueLayout.JAVA_BYTE, p, (byte) s);
            ALL.set(ValueLayout.JAVA_BYTE, p + s - 1, (byte) s);
        }
    }
}
