package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * {@link Heap.Builder#pageGathering}: the situation the seed describes (blocks freed every other one, then blocks
 * larger than any hole asked for), on heaps that gather and on one that does not. Both serve every request and
 * keep every live block's contents; the one that gathers moves the holes' pages into the larger blocks and commits
 * less at its peak.
 */
class GatherDirtyPagesTest {
    private static final int SMALL = 40 << 10; // a medium block: one 10-page run each
    private static final int LARGE = 200 << 10; // larger than any hole the small ones leave

    @Test
    void blocksLargerThanAnyHoleTakeTheHolesPagesInstead() {
        long plain = peakCommitted(heapGathering(PageGathering.OFF));
        for (PageGathering mode : new PageGathering[] {PageGathering.BOUNDED, PageGathering.AT_EVERY_PEAK}) {
            // A heap growing to a new height: both modes gather there.
            long gathered = peakCommitted(heapGathering(mode));
            assertThat(gathered).as("peak committed with %s, against %d without", mode, plain)
                    .isLessThanOrEqualTo(plain - 4L * LARGE / 2);
        }
    }

    @Test
    void theDefaultIsOff() {
        long plain = peakCommitted(heapGathering(PageGathering.OFF));
        long byDefault = peakCommitted(Heap.builder().decay(java.time.Duration.ofHours(1)).build());
        assertThat(byDefault).isEqualTo(plain);
    }

    private static Heap heapGathering(PageGathering mode) {
        return Heap.builder().decay(java.time.Duration.ofHours(1)).pageGathering(mode).build();
    }

    /**
     * A block that got moved pages is not all fresh pages: calloc must zero it, and does, though the pages it got
     * held another block's bytes.
     */
    @Test
    void callocZeroesABlockThatGotMovedPages() {
        try (Heap heap = heapGathering(PageGathering.BOUNDED)) {
            long[] small = new long[32];
            for (int i = 0; i < small.length; i++) {
                small[i] = heap.malloc(SMALL);
                java.lang.foreign.MemorySegment.ofAddress(small[i]).reinterpret(SMALL).fill((byte) 0x5A);
            }
            for (int i = 0; i < small.length; i += 2) heap.free(small[i]);
            long committed = heap.stats().committedBytes();
            long zeroed = heap.calloc(1, LARGE);
            assertThat(heap.stats().committedBytes() - committed).as("pages moved in, not all new")
                    .isLessThan(LARGE);
            var seg = java.lang.foreign.MemorySegment.ofAddress(zeroed).reinterpret(LARGE);
            for (long off = 0; off < LARGE; off += 8) {
                assertThat(seg.get(java.lang.foreign.ValueLayout.JAVA_LONG, off)).as("offset %d", off).isZero();
            }
            heap.free(zeroed);
            for (int i = 1; i < small.length; i += 2) heap.free(small[i]);
        }
    }

    /** Runs the steps on {@code heap}, checks every block, closes the heap and returns its peak committed bytes. */
    private static long peakCommitted(Heap heap) {
        try (heap) {
            long[] small = new long[64];
            for (int i = 0; i < small.length; i++) {
                small[i] = heap.malloc(SMALL);
                fill(small[i], SMALL, i);
            }
            for (int i = 0; i < small.length; i += 2) heap.free(small[i]);
            long[] large = new long[8];
            for (int i = 0; i < large.length; i++) {
                large[i] = heap.malloc(LARGE);
                fill(large[i], LARGE, 1000 + i);
            }
            for (int i = 1; i < small.length; i += 2) assertThat(check(small[i], SMALL, i)).as("block %d", i).isTrue();
            for (int i = 0; i < large.length; i++) assertThat(check(large[i], LARGE, 1000 + i)).isTrue();
            HeapStats s = heap.stats();
            assertThat(s.liveBytes()).isEqualTo(32L * SMALL + 8L * LARGE);
            for (int i = 1; i < small.length; i += 2) heap.free(small[i]);
            for (long p : large) heap.free(p);
            assertThat(heap.stats().liveBytes()).isZero();
            return s.peakCommittedBytes();
        }
    }

    private static void fill(long p, int size, int seed) {
        var seg = java.lang.foreign.MemorySegment.ofAddress(p).reinterpret(size);
        for (int off = 0; off < size; off += 4096) seg.set(java.lang.foreign.ValueLayout.JAVA_INT, off, seed * 7919 + off);
    }

    private static boolean check(long p, int size, int seed) {
        var seg = java.lang.foreign.MemorySegment.ofAddress(p).reinterpret(size);
        for (int off = 0; off < size; off += 4096) {
            if (seg.get(java.lang.foreign.ValueLayout.JAVA_INT, off) != seed * 7919 + off) return false;
        }
        return true;
    }
}
