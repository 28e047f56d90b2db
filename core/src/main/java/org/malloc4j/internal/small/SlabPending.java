package org.malloc4j.internal.small;

/**
 * A slab's pending flag and its link on its owner's pending stack, on a cache line of their own between two of nothing
 * ({@link SlabPadding}, {@link SlabPendingPadding}): a thread that frees another thread's block sets them (once until
 * the owner collects) and reads the flag on every such free, and the owner clears them on every collect. Beside the
 * slab's shape, every clear cost the freeing thread a miss on its next free's reads of the shape, and every set the
 * owner one on its next malloc's: a producer/consumer exchange ({@code XmallocInTurn}, one pair) ran 5-14% faster with the
 * flag moved here; the link, among the owner's counters ({@link Slab#summary}, {@link Slab#used}), cost the owner a
 * miss on the malloc after every push.
 */
abstract class SlabPending extends SlabPadding {
    /** Whether the slab is queued for its owner with remote frees (see {@link Slab#markPending}). */
    @SuppressWarnings("unused") // accessed through Slab.PENDING
    volatile int pending;
    /** The next slab on the owner's pending stack ({@link LocalHeap#pushPending}); null when not on one. */
    Slab nextPending;

    SlabPending(long base, int sizeClass, int pages, LocalHeap owner) {
        super(base, sizeClass, pages, owner);
    }

    SlabPending() {
        super();
    }
}
