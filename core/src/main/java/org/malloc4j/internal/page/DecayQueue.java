package org.malloc4j.internal.page;

/**
 * The dirty runs waiting to be given back, oldest first: a ring of (page, stamp, time). A run that is
 * allocated or merged after it was queued gets a new stamp (or none), so its old entry is recognised as stale
 * and skipped when it comes up. When the ring is full the page layer first compacts it ({@link #compact}: drops the
 * stale entries, which a program that frees and reuses medium blocks in a loop makes by the million within one decay
 * time); only a ring still more than half full of live entries doubles, up to {@link #MAX_CAPACITY} entries (768 KiB),
 * and beyond that the page layer purges the oldest entry early ({@link #pollOldest}): then more than 32,768 free runs
 * are waiting at once. Compacting only when full, and growing unless it freed half the ring, keeps queueing O(1)
 * amortised.
 *
 * <p>The run keeps its stamp and its time in the page map, so that the page layer reads a run's age there, in O(1),
 * where a split or a merge needs it (a search of the ring by stamp, as before 2026-12-07, cost a fifth of a free/malloc
 * cycle of 128 KiB blocks through the page layer). Stamps are 32 bits, never 0 (a run without an entry): an entry
 * that stays stale in the ring while 2^32 others are queued could match its page's new stamp, and would purge a free
 * run early, which is always safe.
 */
final class DecayQueue {
    private static final int MAX_CAPACITY = 1 << 16;
    private int[] pages = new int[1 << 10];
    private int[] stamps = new int[1 << 10];
    private long[] times = new long[1 << 10];
    private final long decayNanos;
    private long head, tail;
    private int nextStamp, lastStamp;
    /** No compaction while {@code tail} is below this (see {@link #isFull}). */
    private long noCompactBefore;

    DecayQueue(long decayNanos) {
        this(decayNanos, 1);
    }

    /** A queue whose first stamp is {@code firstStamp} (tests: the stamps' wrap-around). */
    DecayQueue(long decayNanos, int firstStamp) {
        this.decayNanos = decayNanos;
        this.nextStamp = firstStamp == 0 ? 1 : firstStamp;
    }

    long nanos() {
        return decayNanos;
    }

    boolean immediate() {
        return decayNanos == 0;
    }

    boolean isEmpty() {
        return head == tail;
    }

    /** Tells whether a queued entry still stands for a free dirty run. */
    interface Liveness {
        boolean isCurrent(int page, int stamp);
    }

    /**
     * @return true when the ring is full and can neither drop stale entries enough nor grow: the caller then purges
     *         the oldest entry early
     */
    boolean isFull(Liveness liveness) {
        if (tail - head < pages.length) return false;
        if (tail >= noCompactBefore) {
            compact(liveness);
            if (tail - head <= pages.length / 2) return false;
            if (pages.length < MAX_CAPACITY) {
                grow();
                return false;
            }
            // More than half the largest ring is live: purge early for a while before compacting again, so that a
            // compaction (O(ring)) happens at most once per quarter ring of entries.
            noCompactBefore = tail + pages.length / 4;
        }
        return tail - head == pages.length;
    }

    /** Drops the entries that are no longer current, keeping the others in order. O(entries). */
    private void compact(Liveness liveness) {
        int mask = pages.length - 1;
        long out = head;
        for (long k = head; k < tail; k++) {
            int i = (int) (k & mask);
            if (!liveness.isCurrent(pages[i], stamps[i])) continue;
            int o = (int) (out & mask);
            pages[o] = pages[i];
            stamps[o] = stamps[i];
            times[o] = times[i];
            out++;
        }
        tail = out;
    }

    private void grow() {
        int n = pages.length, mask = n - 1;
        int[] p = new int[2 * n], s = new int[2 * n];
        long[] t = new long[2 * n];
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

    /**
     * Queues a run; returns its stamp, never 0, to be kept with the run. The queue must not be full.
     *
     * @param since when the run's pages became free and unused: now for a freed run, a piece's or neighbour's older
     *        time for a run split from or merged with a queued one (then the entry is out of time order, and waits at
     *        most for the entries queued before it, none older than a decay time from now)
     */
    int add(int page, long since) {
        int i = (int) (tail & (pages.length - 1));
        int stamp = nextStamp++;
        if (nextStamp == 0) nextStamp = 1;
        pages[i] = page;
        stamps[i] = stamp;
        times[i] = since;
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

    /** @return the ring's capacity (for tests) */
    int capacity() {
        return pages.length;
    }

    /** @return the stamp of the entry last returned by a poll */
    int lastStamp() {
        return lastStamp;
    }

    void clear() {
        head = tail;
    }
}
