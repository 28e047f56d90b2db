package org.malloc4j.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The sampled heap-wide peak of live bytes, in an object of its own: it is written from every thread's slow path,
 * and as a field of {@link HeapCore} it would share a cache line with the read-only fields every fast path reads.
 * It only rises: two threads sampling at once with a plain "read, compare, write" could write the lower sample last,
 * and the peak read by stats() went down between two calls.
 */
final class PeakSample {
    private static final VarHandle VALUE;

    static {
        try {
            VALUE = MethodHandles.lookup().findVarHandle(PeakSample.class, "value", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private volatile long value;

    /** @return the highest sample so far */
    long value() {
        return value;
    }

    /** Raises the peak to {@code sample} if it is higher; never lowers it. Lock-free; written only when it grows. */
    void raise(long sample) {
        long now;
        while (sample > (now = value) && !VALUE.weakCompareAndSet(this, now, sample)) {
            Thread.onSpinWait();
        }
    }
}
