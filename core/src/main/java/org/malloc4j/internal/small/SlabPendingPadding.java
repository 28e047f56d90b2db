package org.malloc4j.internal.small;

/** A cache line of nothing between a slab's pending flag ({@link SlabPending}) and its owner's counters ({@link Slab}). */
@SuppressWarnings("unused") // padding: never read
abstract class SlabPendingPadding extends SlabPending {
    private long p0, p1, p2, p3, p4, p5, p6, p7;
    /**
     * Fills the 4-byte hole after the flag and link: HotSpot puts a subclass's field in such a hole (it put
     * {@link Slab#used}, written on every malloc and free, there), but not once a field of this class holds it.
     */
    private int hole;

    SlabPendingPadding(long base, int sizeClass, int pages, LocalHeap owner) {
        super(base, sizeClass, pages, owner);
    }

    SlabPendingPadding() {
        super();
    }
}
