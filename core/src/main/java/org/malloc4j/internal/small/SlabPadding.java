package org.malloc4j.internal.small;

/**
 * A cache line of nothing between a slab's shared fields ({@link SlabShape}) and its pending flag ({@link SlabPending}):
 * HotSpot lays a superclass's fields out before its subclass's, so these 64 bytes keep the two on different lines
 * whatever the object's alignment within a line allows.
 */
@SuppressWarnings("unused") // padding: never read
abstract class SlabPadding extends SlabShape {
    private long p0, p1, p2, p3, p4, p5, p6, p7;
    /**
     * Fills a 4-byte hole that the shape's fields leave before the padding: HotSpot puts a subclass's field in such
     * a hole (it put {@link Slab#used} there, on the shared line), but not once a field of this class holds it.
     */
    private int hole;

    SlabPadding(long base, int sizeClass, int pages, LocalHeap owner) {
        super(base, sizeClass, pages, owner);
    }

    SlabPadding() {
        super();
    }
}
