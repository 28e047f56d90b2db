package org.malloc4j.internal.page;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.malloc4j.internal.os.Os;

/**
 * Once a block's pages had moved ({@link PageHeap#relocate}), every {@link PageHeap#trim()} from then on mapped fresh
 * pages over every clean run below the high-water mark to join the mappings the move had split: a system call a clean
 * run, on every trim for the rest of the heap's life, though nothing had moved since, and none of them counted in
 * {@code purgeCount}, the figure that counts the heap's system calls (issue #4). Now a trim joins only after pages
 * have moved since its last join, and counts each call.
 */
class TrimAfterMovesCountsItsCallsTest {
    private static final int PAGES = 1 << 10;

    @Test
    void aTrimJoinsOnceAfterAMoveAndCountsItsCalls() {
        long base = Os.reserve((long) PAGES << 12, 1L << 22);
        PageHeap heap = new PageHeap(base, PAGES, Long.MAX_VALUE, 0, 1L << 30); // decay 0: blocks of 16 pages move
        heap.lock().lock();
        try {
            long a = heap.allocateBlock(20, 4096, 20 * 4096) & ~PageHeap.FRESH;
            heap.allocateBlock(1, 4096, 4096); // a guard after it: the block cannot grow in place
            long moved = heap.relocate(heap.pageOf(a), 40, 40 * 4096);
            if (!Os.canMove()) return; // a kernel without MREMAP_DONTUNMAP moves nothing
            assertThat(moved & PageHeap.MOVED).as("moved").isNotZero();
            long before = heap.purgeCount();
            trim(heap);
            assertThat(heap.purgeCount() - before).as("the remap of the clean run the block left, counted").isOne();
            before = heap.purgeCount();
            trim(heap);
            trim(heap);
            assertThat(heap.purgeCount() - before).as("nothing moved since: no call").isZero();
            assertThat(heap.checkInvariants()).isNull();
        } finally {
            heap.lock().unlock();
            heap.release();
            Os.unmap(base, (long) PAGES << 12);
        }
    }

    private static void trim(PageHeap heap) {
        heap.lock().unlock();
        try {
            heap.trim();
        } finally {
            heap.lock().lock();
        }
    }
}
