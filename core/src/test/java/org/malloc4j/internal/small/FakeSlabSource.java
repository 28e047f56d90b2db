package org.malloc4j.internal.small;

import java.util.ArrayList;
import java.util.List;

/**
 * A slab source for driving a thread's cache directly: it hands out slabs at fresh, never-mapped addresses (the cache
 * keeps its metadata out of band and never touches a block), gives nothing back, and counts the cache's slow paths.
 */
final class FakeSlabSource implements SlabSource {
    /** Every slab handed out, in order. */
    final List<Slab> slabs = new ArrayList<>();
    int slowPaths;
    private long next = 1L << 40;

    @Override
    public Slab newSlab(int sizeClass, LocalHeap owner, long request) {
        int pages = owner.nextSlabPages(sizeClass);
        Slab s = owner.newSlab(next, sizeClass, pages);
        next += (long) pages << 12;
        slabs.add(s);
        return s;
    }

    /**
     * Allocates blocks of {@code size} bytes, class {@code c}, from {@code cache} until it has taken {@code n} slabs
     * from this source and the last is full; returns their addresses in order.
     */
    List<Long> fill(LocalHeap cache, int c, long size, int n) {
        List<Long> blocks = new ArrayList<>();
        while (slabs.size() < n || slabs.get(n - 1).used < slabs.get(n - 1).capacity) {
            blocks.add(cache.allocate(c, size));
        }
        return blocks;
    }

    @Override
    public void releaseSlab(Slab slab) {}

    @Override
    public void onSlowPath(LocalHeap cache) {
        slowPaths++;
    }
}
