package org.malloc4j;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * A monotonic clock in nanoseconds that moves only when a test advances it: given to the page layer
 * ({@code Heap.Builder.clock}, {@code PageHeap}'s constructor), it makes decay windows depend on the test's steps,
 * not on how fast a loaded machine runs them. Any thread may read it (the purger thread does).
 */
public final class ManualClock implements LongSupplier {
    /** Not 0, as System.nanoTime is not: times are compared by difference, never against 0. */
    private volatile long now = 1_000_000_000_000L;

    @Override
    public long getAsLong() {
        return now;
    }

    /** Moves the clock {@code by} forward (only the test's thread advances it). */
    public void advance(Duration by) {
        if (by.isNegative()) throw new IllegalArgumentException("a monotonic clock does not go back: " + by);
        now += by.toNanos();
    }
}
