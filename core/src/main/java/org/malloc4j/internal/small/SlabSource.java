package org.malloc4j.internal.small;

/** Where a thread's cache gets slabs and gives them back: the page layer, behind the heap's lock. */
public interface SlabSource {
    /**
     * @return a new slab of class {@code sizeClass} owned by {@code owner}, or null when none was taken because the
     *         refusal of its pages found room without them: {@code owner} now has room of that class (the caches of
     *         ended threads adopted into it, or frees of the stacks' blocks that landed in it), and the caller's slow
     *         path runs again from its start; or another cache lent the caller a block ({@link LocalHeap#lend}).
     *         Throws when the heap is exhausted
     */
    Slab newSlab(int sizeClass, LocalHeap owner, long request);

    /** Returns an empty slab's pages to the page layer. */
    void releaseSlab(Slab slab);

    /** Called on every small-allocation slow path of {@code cache} (by its holder): a chance to sample figures. */
    void onSlowPath(LocalHeap cache);

    /**
     * @return the most bytes of empty slabs the caches of this source keep for reuse, all classes together: one cache
     *         alone keeps it all, several share it ({@link ThreadCaches#shareSpares}); by default
     *         {@link LocalHeap#SPARE_BYTES}
     */
    default long spareBudget() {
        return LocalHeap.SPARE_BYTES;
    }

    /**
     * Grants a cache {@code bytes} more of medium spares beyond its share of the spare budget (see
     * {@link LocalHeap#mediumExtra}), within what the source allows all its caches together.
     *
     * @return the bytes granted: {@code bytes}, or 0 when the source has none left to grant (none, by default)
     */
    default long grantMediumExtra(long bytes) {
        return 0;
    }

    /** Takes back {@code bytes} of medium extra that {@link #grantMediumExtra} granted a cache. */
    default void returnMediumExtra(long bytes) {}

    /**
     * @return the time now, in nanoseconds of the source's monotonic clock, and how long medium extra that a cache
     *         did not use stays with it ({@link #scavengeNanos}); by default {@link System#nanoTime}
     */
    default long nanoTime() {
        return System.nanoTime();
    }

    /** @return how long a cache keeps medium extra its spares did not need before it gives it back (one second) */
    default long scavengeNanos() {
        return 1_000_000_000L;
    }

    /** @return the bytes a new cache allocates before it samples an allocation site; never, by default */
    default long firstSampleCountdown() {
        return Long.MAX_VALUE;
    }
}
