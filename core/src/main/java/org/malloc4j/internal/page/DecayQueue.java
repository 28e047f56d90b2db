package org.malloc4j.internal.page;

/**
 * The dirty runs waiting to be given back, oldest first: a ring of (page, stamp, time). A run that is
 * allocated or merged after it was queued gets a new stamp (or none), so its old entry is recognised as stale
 * and skipped; nothing is ever searched. The ring is bounded: when it is full, the page layer purges the
 * oldest entry early ({@link #pollOldest}) before queueing a new one.
 */
final class DecayQueue {
    private static final int CAPACITY = 1 << 12;
    private final int[] pages = new int[CAPACITY];
    private final long[] stamps = new long[CAPACITY];
    private final long[] times = new long[CAPACITY];
    private final long decayNanos;
    private long head, tail, nextStamp = 1, lastStamp;

    DecayQueue(long decayNanos) {
        this.decayNanos = decayNanos;
    }

    boolean immediate() {
        return decayNanos == 0;
    }

    boolean isEmpty() {
        return head == tail;
    }

    boolean isFull() {
        return tail - head == CAPACITY;
    }

    /** Queues a run; returns its stamp, to be kept with the run. The queue must not be full. */
    long add(int page, long now) {
        int i = (int) (tail & (CAPACITY - 1));
        long stamp = nextStamp++;
        pages[i] = page;
        stamps[i] = stamp;
        times[i] = now;
        tail++;
        return stamp;
    }

    /** @return the page of the oldest entry whose time has come, or -1 */
    int pollExpired(long now) {
        if (head == tail) return -1;
        int i = (int) (head & (CAPACITY - 1));
        if (now - times[i] < decayNanos) return -1;
        return pollOldest();
    }

    /** @return the page of the oldest entry, whatever its time, or -1 */
    int pollOldest() {
        if (head == tail) return -1;
        int i = (int) (head & (CAPACITY - 1));
        head++;
        lastStamp = stamps[i];
        return pages[i];
    }

    /** @return the stamp of the entry last returned by a poll */
    long lastStamp() {
        return lastStamp;
    }

    void clear() {
        head = tail;
    }
}
