package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/**
 * Deviations from the API's contract found by a review of the public methods against issues 2 and 5 (each failed
 * before its fix): a CHECKED calloc wrote every page of a large block, a realloc that moves counted the old and the new
 * block together in the peak of live bytes, and {@code reclaimLeaks(true)} was accepted where it could never act.
 */
class ApiContractEdgesTest {

    /**
     * calloc does not zero fresh pages the OS gives zeroed (issue 2), and CHECKED is FAST plus checks (issue 5): a
     * CHECKED calloc of 64 MiB wrote all 64 MiB, so a sparse calloc'd table became resident in a checked test run.
     */
    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void aLargeCallocLeavesFreshPagesUntouched(HeapMode mode) {
        long size = 64L << 20;
        try (Heap h = Heap.builder().mode(mode).jmx(false).build()) {
            long p = h.calloc(1, size);
            Blocks.checkZero(p, 8192);
            Blocks.checkZero(p + size - 8192, 8192);
            assertThat(h.stats().residentBytes()).as("%s: resident bytes after calloc(1, 64 MiB)", mode)
                    .isLessThan(4L << 20);
            Blocks.checkZero(p, size); // every page read: zero
            h.free(p);
        }
        // Reused memory is still zeroed: a dirty block of the same size, freed and calloc'd again
        try (Heap h = Heap.builder().mode(mode).quarantine(0).decay(Duration.ofHours(1))
                .releaseThreshold(1L << 40).jmx(false).build()) {
            long p = h.malloc(size);
            Blocks.ALL.asSlice(p, size).fill((byte) 0x5c);
            h.free(p);
            long q = h.calloc(size / 8, 8);
            Blocks.checkAllZero(q, size);
            h.free(q);
        }
    }

    /**
     * peakLiveBytes is the largest liveBytes the program had (DESIGN.md; the malloc-lab measure that utilization
     * divides): a realloc that moves a block replaces it, it does not hold both. Counting both inflated the peak (and
     * so utilization) by the old block at every moving realloc, and in CHECKED mode, where realloc always moves, at
     * every realloc, even one FAST does in place.
     */
    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void aReallocThatMovesDoesNotCountBothBlocksInThePeak(HeapMode mode) {
        long[][] cases = {{1000, 5000}, {3000, 40_000}, {1L << 20, 2L << 20}, {40_000, 300_000}, {100, 110}};
        for (long[] c : cases) {
            try (Heap h = Heap.builder().mode(mode).decay(Duration.ofHours(1)).jmx(false).build()) {
                long p = h.malloc(c[0]);
                long guard = h.malloc(c[0]); // right after it: a page run cannot grow in place
                Blocks.fill(p, c[0], (byte) 0x21);
                long q = h.realloc(p, c[1]);
                Blocks.check(q, c[0], c[0], (byte) 0x21); // the old size: the regions fill() wrote
                HeapStats s = h.stats();
                assertThat(s.liveBytes()).isEqualTo(c[0] + c[1]);
                assertThat(s.peakLiveBytes()).as("%s: peak live after realloc(%d -> %d) beside a block of %d",
                        mode, c[0], c[1], c[0]).isEqualTo(c[0] + Math.max(c[0], c[1]));
                h.free(q);
                h.free(guard);
            }
        }
    }

    /** A failed moving realloc leaves the counts as they were (the old block's bytes are put back). */
    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void aRefusedMoveLeavesTheLiveBytesAsTheyWere(HeapMode mode) {
        try (Heap h = Heap.builder().mode(mode).limit(8L << 20).jmx(false).build()) {
            long p = h.malloc(1L << 20);
            long guard = h.malloc(1L << 20);
            assertThatThrownBy(() -> h.realloc(p, 16L << 20)).isInstanceOf(HeapExhaustedException.class);
            HeapStats s = h.stats();
            assertThat(s.liveBytes()).isEqualTo(2L << 20);
            assertThat(s.peakLiveBytes()).isEqualTo(2L << 20);
            h.free(h.realloc(p, 2L << 20));
            h.free(guard);
            assertThat(h.stats().liveBytes()).isZero();
        }
    }

    /**
     * Bad options get a clear exception naming what was wrong: {@code reclaimLeaks(true)} on a FAST heap that records
     * no sites watches no segment (only tracked blocks and CHECKED ones are watched), so it could never free anything.
     */
    @Test
    void reclaimLeaksWithNothingWatchedIsRefused() {
        assertThatThrownBy(() -> Heap.builder().reclaimLeaks(true).jmx(false).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContainingAll("reclaimLeaks", "trackSites");
        Heap.builder().reclaimLeaks(true).trackSites(1).jmx(false).build().close();
        Heap.builder().reclaimLeaks(true).mode(HeapMode.CHECKED).jmx(false).build().close();
        Heap.builder().reclaimLeaks(false).jmx(false).build().close();
    }
}
