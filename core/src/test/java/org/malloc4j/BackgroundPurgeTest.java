package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Free pages go back to the OS after the decay time even when the program stops calling the heap. */
class BackgroundPurgeTest {

    /**
     * The real purger thread gives the pages back while nobody calls the heap. The heap's decay time is measured by a
     * manual clock: on the machine's clock, a stall of a decay time between the free and the first reading (a
     * collection, a loaded machine) let the purger go first, and the reading of the retained pages failed. Now
     * nothing can expire before the test moves the clock past the decay time; then it waits, bounded, for the thread,
     * which wakes by the machine's clock (at least once a second) and purges by the heap's.
     */
    @Test
    void anIdleHeapGivesItsRetainedPagesBack() {
        ManualClock clock = new ManualClock();
        try (Heap heap = Heap.builder().decay(Duration.ofSeconds(1)).clock(clock).jmx(false).build()) {
            long p = heap.malloc(8 << 20);
            Blocks.ALL.asSlice(p, 8 << 20).fill((byte) 1);
            heap.free(p);
            HeapStats before = heap.stats();
            assertThat(before.retainedBytes()).isEqualTo(8 << 20);
            assertThat(before.residentBytes()).isGreaterThanOrEqualTo(8 << 20);
            clock.advance(Duration.ofSeconds(1));
            // No further call but stats(), which never purges: only the purger thread can give the pages back.
            Internals.await(() -> heap.stats().retainedBytes() == 0);
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
