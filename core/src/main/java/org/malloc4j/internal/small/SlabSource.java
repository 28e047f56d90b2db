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

    /** @return the bytes a new cache allocates before it samples an allocation site; never, by default */
    default long firstSampleCountdown() {
        return Long.MAX_VALUE;
    }
}
