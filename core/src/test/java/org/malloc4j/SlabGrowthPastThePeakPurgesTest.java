package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A heap that grows past its peak gives back the small dirty runs it could not use, whatever takes the new pages: a
 * large block did, but slabs, which take pages a few at a time, did not. Each large block's purge also spared the
 * growth up to a 64th of the peak, and every growth raised the peak by that much, so a heap growing in small steps
 * never purged at all: mawk's replay ended its climb with a fifth of its live bytes in free dirty runs, peak committed
 * 1.25x peak live (1.18x now). No decay here (an hour), so that only the allocation path purges.
 */
class SlabGrowthPastThePeakPurgesTest {
    private static final long KIB = 1024;
    private static final int HOLES = 64;

    /**
     * Leaves {@code HOLES} dirty runs of 10 pages each between live page-run blocks: 300 KiB blocks freed and 260 KiB
     * ones taken in their place. @return the blocks, all live
     */
    private static List<Long> tenPageHoles(Heap h) {
        List<Long> live = new ArrayList<>();
        long[] wide = new long[HOLES];
        for (int i = 0; i < HOLES; i++) {
            wide[i] = h.malloc(300 * KIB);
            live.add(h.malloc(260 * KIB)); // keeps the holes apart
        }
        for (long w : wide) h.free(w);
        for (int i = 0; i < HOLES; i++) live.add(h.malloc(260 * KIB)); // 65 of each hole's 75 pages
        return live;
    }

    @Test
    void slabsTakingPagesPastThePeakGiveBackTheHolesTheyCannotUse() {
        try (Heap h = Heap.builder().decay(Duration.ofHours(1)).jmx(false).build()) {
            List<Long> live = tenPageHoles(h);
            HeapStats before = h.stats();
            assertThat(before.retainedBytes()).as("the holes, dirty").isEqualTo(HOLES * 40 * KIB);
            long purgesBefore = before.purgeCount();
            // 16 KiB blocks: after the class's first slab (8 pages, in a hole), slabs of more than ten pages, which take
            // clean pages
            while (h.stats().committedBytes() < before.peakCommittedBytes() + 4 * 1024 * KIB) {
                live.add(h.malloc(16 * KIB));
            }
            HeapStats after = h.stats();
            assertThat(after.purgeCount()).as("purges while the slabs grew the heap past its peak")
                    .isGreaterThan(purgesBefore);
            assertThat(after.retainedBytes()).as("dirty bytes left: a 64th of committed, and one hole (%s)", after)
                    .isLessThanOrEqualTo(after.committedBytes() / 64 + 40 * KIB);
            for (long b : live) h.free(b);
            assertThat(h.stats().liveBytes()).isZero();
        }
    }

    @Test
    void belowItsPeakTheHeapKeepsItsHoles() {
        try (Heap h = Heap.builder().decay(Duration.ofHours(1)).jmx(false).build()) {
            long top = h.malloc(8 * 1024 * KIB); // the peak: 8 MiB more than what follows needs
            List<Long> live = tenPageHoles(h);
            h.free(top); // a dirty run of 8 MiB: the slabs below take their pages from it
            HeapStats before = h.stats();
            for (int i = 0; i < 128; i++) live.add(h.malloc(16 * KIB));
            HeapStats after = h.stats();
            assertThat(after.purgeCount()).as("purges below the peak").isEqualTo(before.purgeCount());
            assertThat(after.peakCommittedBytes()).isEqualTo(before.peakCommittedBytes());
            for (long b : live) h.free(b);
        }
    }

    @Test
    void aHeapAtItsPeakWithFewHolesKeepsThem() {
        try (Heap h = Heap.builder().decay(Duration.ofHours(1)).jmx(false).build()) {
            List<Long> live = new ArrayList<>();
            for (int i = 0; i < 64; i++) live.add(h.malloc(1024 * KIB)); // 64 MiB live: a 64th is 1 MiB
            long wide = h.malloc(300 * KIB);
            live.add(h.malloc(260 * KIB));
            h.free(wide);
            live.add(h.malloc(260 * KIB)); // one hole of 10 pages, far under a 64th of committed
            long purges = h.stats().purgeCount();
            for (int i = 0; i < 256; i++) live.add(h.malloc(16 * KIB));
            assertThat(h.stats().purgeCount()).as("purges for a hole within the share kept").isEqualTo(purges);
            assertThat(h.stats().retainedBytes()).as("the hole, or what a first slab left of it").isPositive();
            for (long b : live) h.free(b);
        }
    }
}
