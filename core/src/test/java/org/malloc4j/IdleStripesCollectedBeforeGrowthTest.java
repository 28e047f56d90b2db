package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Blocks a virtual thread allocated and another thread freed wait in the remote bitmaps of its stripe's slabs until a
 * virtual thread of that stripe takes a slow path, or the purger's next pass (up to a second later). A program that
 * hands virtual threads' blocks to platform threads (a new virtual thread per task, so the stripe that allocated is
 * seldom the next one used) kept them committed meanwhile: in a larson-like loop of one platform and one virtual
 * thread handing their slots to each other, decay 0, the stripes' uncollected frees were 0.9 to 1.5 times the live
 * bytes at the end of a round (MultiThreadFootprint). A cache about to take pages for a new slab now collects the
 * stripes no one holds first, so that the emptied slabs go back, or serve it, before the heap grows.
 */
class IdleStripesCollectedBeforeGrowthTest {
    private static final long KiB = 1024, MiB = 1024 * KiB;

    @Test
    void aNewSlabCollectsTheFreesWaitingInIdleStripes() throws Exception {
        try (Heap heap = Heap.builder().decay(Duration.ZERO).jmx(false).build()) {
            heap.free(heap.malloc(64)); // this thread's cache, and its slab of 64 bytes
            long[] blocks = new long[65_536]; // 4 MiB of 64-byte blocks
            Thread virtual = Thread.ofVirtual().start(() -> {
                for (int i = 0; i < blocks.length; i++) blocks[i] = heap.malloc(64);
            });
            virtual.join();
            for (long b : blocks) heap.free(b); // remote frees, queued on the stripe's pending stack
            long held = heap.stats().committedBytes();
            long b = heap.malloc(1000); // a class this thread has no slab of: a new slab
            HeapStats s = heap.stats();
            heap.free(b);
            assertThat(held).as("before: the stripe's emptied slabs").isGreaterThan(4 * MiB);
            // What stays: the stripe's spares (512 KiB) and this thread's two slabs
            assertThat(s.committedBytes()).as("after a new slab, decay 0, 1000 bytes live (%s)", s)
                    .isLessThan(MiB);
        }
    }
}
