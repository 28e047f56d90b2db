package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Free pages go back to the OS after the decay time even when the program stops calling the heap. */
class BackgroundPurgeTest {

    @Test
    void anIdleHeapGivesItsRetainedPagesBack() {
        // A decay of a second, not less: the reading just after the free must come before the purger's, and a stall
        // of a few tens of milliseconds (a collection, a loaded machine) is not rare
        try (Heap heap = Heap.builder().decay(Duration.ofSeconds(1)).jmx(false).build()) {
            long p = heap.malloc(8 << 20);
            Blocks.ALL.asSlice(p, 8 << 20).fill((byte) 1);
            heap.free(p);
            HeapStats before = heap.stats();
            assertThat(before.retainedBytes()).isEqualTo(8 << 20);
            assertThat(before.residentBytes()).isGreaterThanOrEqualTo(8 << 20);
            // No further call but stats(), which never purges: only the purger thread can give the pages back.
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (heap.stats().retainedBytes() > 0 && System.nanoTime() < deadline) Thread.onSpinWait();
            HeapStats after = heap.stats();
            assertThat(after.retainedBytes()).isZero();
            assertThat(after.committedBytes()).isLessThan(before.committedBytes() - (7 << 20));
            assertThat(after.residentBytes()).isLessThan(before.residentBytes() - (7 << 20));
            assertThat(after.purgeCount()).isGreaterThan(before.purgeCount());
        }
    }

    @Test
    void residentBytesCountOnlyTouchedPages() {
        try (Heap heap = Heap.builder().jmx(false).build()) {
            long p = heap.malloc(16 << 20);
            long untouched = heap.stats().residentBytes();
            assertThat(untouched).isLessThan(1 << 20); // committed, never touched: not resident
            Blocks.ALL.asSlice(p, 4 << 20).fill((byte) 1);
            long touched = heap.stats().residentBytes();
            assertThat(touched - untouched).isBetween(4L << 20, (4L << 20) + (64 << 10));
            assertThat(heap.stats().committedBytes()).isGreaterThanOrEqualTo(16 << 20);
            heap.free(p);
        }
    }

    @Test
    void residentBytesAddUpOverManyCommittedStretches() {
        try (Heap heap = Heap.builder().decay(java.time.Duration.ofHours(1)).jmx(false).build()) {
            long[] blocks = new long[40];
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = heap.malloc(1 << 20);
                Blocks.ALL.asSlice(blocks[i], 1 << 20).fill((byte) i);
            }
            for (int i = 0; i < blocks.length; i += 2) heap.free(blocks[i]);
            heap.trim(); // the freed megabytes are given back: 20 live blocks, each between two clean runs
            long resident = heap.stats().residentBytes();
            assertThat(resident).isBetween(20L << 20, (20L << 20) + (1 << 20));
            for (int i = 1; i < blocks.length; i += 2) heap.free(blocks[i]);
            heap.trim();
            assertThat(heap.stats().residentBytes()).isLessThan(1 << 20);
        }
    }
}
