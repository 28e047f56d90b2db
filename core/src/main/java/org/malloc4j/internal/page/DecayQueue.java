package org.malloc4j.internal.page;

/**
 * The dirty runs waiting to be given back, oldest first: a ring of (page, stamp, time). A run that is
 * allocated or merged after it was queued gets a new stamp (or none), so its old entry is recognised as stale
 * and skipped; nothing is ever searched. The ring doubles when full, up to {@link #MAX_CAPACITY} entries (20 MiB);
 * beyond that the page layer purges the oldest entry early ({@link #pollOldest}) before queueing a new one. Purging
 * early only because the ring is small would make a program that frees many medium blocks within the decay
 * time pay a page fault on every reuse.
 */
final class DecayQueue {
    private static final int MAX_CAPACITY = 1 << 20;
    private int[] pages = new int[1 << 10];
    private long[] stamps = new long[1 << 10];
    private long[] times = new long[1 << 10];
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

    /** @return true when the ring is full and cannot grow */
    boolean isFull() {
        if (tail - head < pages.length) return false;
        if (pages.length == MAX_CAPACITY) return true;
        grow();
        return false;
    }

    private void grow() {
        int n = pages.length, mask = n - 1;
        int[] p = new int[2 * n];
        long[] s = new long[2 * n], t = new long[2 * n];
        for (long k = head, j = 0; k < tail; k++, j++) {
            int i = (int) (k & mask);
            p[(int) j] = pages[i];
            s[(int) j] = stamps[i];
            t[(int) j] = times[i];
        }
        tail -= head;
        head = 0;
        pages = p;
        stamps = s;
        times = t;
    }

    /** Queues a run; returns its stamp, to be kept with the run. The queue must not be full. */
    long add(int page, long now) {
        int i = (int) (tail & (pages.length - 1));
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
        int i = (int) (head & (pages.length - 1));
        if (now - times[i] < decayNanos) return -1;
        return pollOldest();
    }

    /** @return the page of the oldest entry, whatever its time, or -1 */
    int pollOldest() {
        if (head == tail) return -1;
        int i = (int) (head & (pages.length - 1));
        head++;
        lastStamp = stamps[i];
        return pages[i];
    }

    /** @return nanoseconds until the oldest entry's time comes (0 if it has); the queue must not be empty */
    long nanosUntilNext(long now) {
        int i = (int) (head & (pages.length - 1));
        return Math.max(0, decayNanos - (now - times[i]));
    }

    /** @return the stamp of the entry last returned by a poll */
    long lastStamp() {
        return lastStamp;
    }

    void clear() {
        head = tail;
    }
}
