package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A request the heap can hold is served, not refused with {@link HeapExhaustedException}: the seed's symptom (a
 * request that fails although the memory is free) must not come from the allocator's own searches. Three cases found
 * by a review of the page layer on 2026-12-07, each refused before: a free run long enough behind a shorter one in
 * its TLSF list, an aligned block that fits the reservation's last aligned stretch exactly, and a request under the
 * limit while the caller's own empty slabs held the committed bytes. (A refusal is caught, not left to fail the test:
 * HeapExhaustedException is an OutOfMemoryError.)
 */
class RequestsThatFitAreServedTest {

    @Test
    void aRunLongEnoughBehindAShorterOneInItsListIsFound() {
        try (Heap heap = Heap.builder().reserve(16L << 20).decay(Duration.ZERO).jmx(false).build()) {
            // Two clean free runs of 103 and 100 pages (one TLSF list, the 100-page run at its head) are the only
            // free ranges of the reservation; 102 pages fit the 103-page one
            long a = heap.malloc(103L << 12);
            long s1 = heap.malloc(65L << 12);
            long b = heap.malloc(100L << 12);
            long s2 = heap.malloc((4096L - 268) << 12);
            heap.free(a);
            heap.free(b);
            long[] got = new long[1];
            Throwable refused = catchThrowable(() -> got[0] = heap.malloc(102L << 12));
            assertThat(refused).as("103 free pages hold 102").isNull();
            assertThat(got[0]).as("in the 103-page run").isEqualTo(a);
            heap.free(got[0]);
            heap.free(s1);
            heap.free(s2);
            assertThat(heap.verify()).isEmpty();
        }
    }

    @Test
    void anAlignedBlockFitsTheLastAlignedStretchOfTheReservation() {
        try (Heap heap = Heap.builder().reserve(16L << 20).decay(Duration.ofHours(1)).jmx(false).build()) {
            long[] blocks = new long[4];
            for (int i = 0; i < 3; i++) blocks[i] = heap.alignedAlloc(4L << 20, 4L << 20);
            assertThat(heap.stats().committedBytes()).isEqualTo(12L << 20);
            Throwable refused = catchThrowable(() -> blocks[3] = heap.alignedAlloc(4L << 20, 4L << 20));
            assertThat(refused).as("the last aligned 4 MiB of the reservation is free").isNull();
            assertThat(blocks[3] % (4L << 20)).isZero();
            for (long p : blocks) heap.free(p);
            assertThat(heap.stats().liveBytes()).isZero();
        }
    }

    @Test
    void aRequestUnderTheLimitIsServedWhileTheCallersEmptySlabsHoldTheRoom() {
        // {limit, request, decay in ms}: a page run that fits once the spares are given back; a medium slab of another
        // class at a decay of 0 (where a new slab gives no spare back before growth, see HeapCore.newSlab)
        long[][] cases = {{4L << 20, (4L << 20) - (128L << 10), 3_600_000}, {600L << 10, 240_000, 0}};
        for (long[] c : cases) {
            Heap.Builder b = Heap.builder().limit(c[0]).decay(Duration.ofMillis(c[2])).jmx(false);
            try (Heap heap = b.build()) {
                long[] p = new long[5];
                for (int i = 0; i < p.length; i++) p[i] = heap.malloc(100_000);
                for (long q : p) heap.free(q); // kept as the cache's spares: committed, nothing live
                HeapStats before = heap.stats();
                assertThat(before.liveBytes()).isZero();
                assertThat(before.committedBytes() + c[1]).as("refused before the spares go").isGreaterThan(c[0]);
                long[] got = new long[1];
                Throwable refused = catchThrowable(() -> got[0] = heap.malloc(c[1]));
                assertThat(refused).as("nothing live; %d bytes under a limit of %d", c[1], c[0]).isNull();
                heap.free(got[0]);
                assertThat(heap.stats().peakCommittedBytes()).isLessThanOrEqualTo(c[0]);
            }
        }
    }
}
