package org.malloc4j.internal.page;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.malloc4j.internal.os.Os;

/**
 * A block moved by its pages ({@link PageHeap#relocate}) takes its new run while its old one is still counted: for the
 * moment, committed pages hold both, and the incoming pages twice. Those pages are never faulted in, so no dirty run is
 * purged for them: the large block's purge leaves them out, and the demand-peak purge ({@code purgeAtDemandPeak}, for a
 * run under 64 pages) must too. It did not: a 20-page block grown to 30 below the peak, which leaves committed pages 10
 * under it, purged a 10-page dirty run as if the heap had grown 10 past it.
 */
class RelocationAtThePeakPurgesNothingTest {
    private static final int PAGES = 1 << 16;

    @Test
    void aBlockMovedBelowThePeakPurgesNoDirtyRun() {
        Assumptions.assumeTrue(Os.canMove(), "this kernel cannot move pages");
        long base = Os.reserve((long) PAGES << 12, 1L << 22);
        // a release threshold of 16 pages (a run that size goes back at once, and moves when it grows), an hour's decay
        PageHeap heap = new PageHeap(base, PAGES, Long.MAX_VALUE, 3_600_000_000_000L, 16L << 12, System::nanoTime);
        heap.lock().lock();
        try {
            long spare = heap.allocateBlock(20, 4096, 20 * 4096) & ~PageHeap.FRESH;
            long a = heap.allocateBlock(20, 4096, 20 * 4096) & ~PageHeap.FRESH;
            heap.allocateBlock(1, 4096, 4096); // a guard: a cannot grow in place
            // Large blocks (their own purge, past the peak by a 64th, finds no dirty run yet), each shrunk by 10 pages:
            // 640 dirty pages in 10-page runs, kept (under the threshold), taken while the pages in use climbed
            long[] large = new long[64];
            for (int i = 0; i < large.length; i++) large[i] = heap.allocateBlock(74, 4096, 74 * 4096) & ~PageHeap.FRESH;
            for (long l : large) assertThat(heap.resize(heap.pageOf(l), 64, 64 * 4096)).isTrue();
            heap.free(heap.pageOf(spare)); // 20 pages, over the threshold: given back at once
            assertThat(heap.dirtyBytes() >>> 12).isEqualTo(640);
            long peak = heap.peakCommittedBytes() >>> 12;
            long committed = heap.committedPages();
            assertThat(committed).as("20 pages under the peak").isEqualTo(peak - 20);
            long purges = heap.purgeCount();

            long moved = heap.relocate(heap.pageOf(a), 30, 30 * 4096);
            Assumptions.assumeTrue((moved & PageHeap.MOVED) != 0, "the move was refused");

            assertThat(heap.committedPages()).as("grown by 10 pages: still under the peak").isEqualTo(committed + 10);
            assertThat(heap.peakCommittedBytes() >>> 12).isEqualTo(peak);
            assertThat(heap.dirtyBytes() >>> 12).as("the holes, all kept: the heap did not pass its peak")
                    .isEqualTo(640);
            assertThat(heap.purgeCount() - purges).as("the move's own system call only").isEqualTo(1);
            assertThat(heap.checkInvariants()).isNull();
        } finally {
            heap.lock().unlock();
            heap.release();
            Os.unmap(base, (long) PAGES << 12);
        }
    }
}
