package org.malloc4j.internal.small;

/**
 * A slab's pending flag, on a cache line of its own between two of nothing ({@link SlabPadding},
 * {@link SlabPendingPadding}): a thread that frees another thread's block sets it (once until the owner collects) and
 * reads it on every such free, and the owner clears it on every collect. Beside the slab's shape, every clear cost the
 * freeing thread a miss on its next free's reads of the shape, and every set the owner one on its next malloc's: a
 * producer/consumer exchange (`XmallocInTurn`, one pair) ran 5-14% faster with the flag moved here.
 */
abstract class SlabPending extends SlabPadding {
    /** Whether the slab is queued for its owner with remote frees (see {@link Slab#markPending}). */
    @SuppressWarnings("unused") // accessed through Slab.PENDING
    volatile int pending;

    SlabPending(long base, int sizeClass, int pages, LocalHeap owner) {
        super(base, sizeClass, pages, owner);
    }

    SlabPending() {
        super();
    }
}
