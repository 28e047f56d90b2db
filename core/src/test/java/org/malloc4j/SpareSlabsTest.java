package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Empty slabs a thread's cache keeps for reuse (spares) are bounded in bytes for the whole cache, not per size class:
 * a program whose blocks pass through many classes once (a string grown by realloc, say) does not keep a slab in
 * each of them. {@code trim()} gives the caller's empty slabs back.
 */
class SpareSlabsTest {
    private static final long KiB = 1024;
    /** The cache's spare budget (LocalHeap.SPARE_BYTES) plus one slab of the largest class, current and empty. */
    private static final long BOUND = 512 * KiB + 256 * KiB;

    /** A block in every size class up to 256 KiB, each freed before the next is taken. */
    private static long touchEveryClassOnce(Heap heap) {
        long sum = 0;
        for (long size = 16; size <= 256 * KiB; size += Math.max(16, size / 8)) {
            long p = heap.malloc(size);
            Blocks.ALL.set(java.lang.foreign.ValueLayout.JAVA_LONG, p, size);
            heap.free(p);
            sum += size;
        }
        return sum;
    }

    @Test
    void classesUsedOnceKeepNoMoreThanTheSpareBudget() {
        try (Heap heap = Heap.builder().decay(Duration.ZERO).jmx(false).build()) {
            long touched = touchEveryClassOnce(heap);
            HeapStats s = heap.stats();
            assertThat(s.liveBytes()).isZero();
            assertThat(touched).as("bytes of the blocks the walk took, one at a time").isGreaterThan(2 * BOUND);
            assertThat(s.committedBytes()).as("committed after every class was used once").isLessThanOrEqualTo(BOUND);
            assertThat(s.peakCommittedBytes()).as("peak committed").isLessThanOrEqualTo(BOUND + 256 * KiB);
        }
    }

    /**
     * A heap built with no spare budget and decay 0 gives free memory back at once: once the walk's blocks are
     * freed, only the slab of the one live block is committed, without {@code trim()}; with the default budget the
     * caches keep spares.
     */
    @Test
    void aHeapWithNoSpareBudgetKeepsNoSpares() {
        assertThatThrownBy(() -> Heap.builder().spareBytes(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("spareBytes").hasMessageContaining("-1");
        try (Heap heap = Heap.builder().decay(Duration.ZERO).spareBytes(0).jmx(false).build()) {
            touchEveryClassOnce(heap);
            long kept = heap.malloc(100);
            long p = heap.malloc(100 * KiB); // a medium class: its one-block slab empties at its free
            heap.free(p);
            long q = heap.malloc(100 * KiB); // and the next malloc of the class still works
            Blocks.ALL.set(java.lang.foreign.ValueLayout.JAVA_LONG, q + 100 * KiB - 8, q);
            assertThat((long) Blocks.ALL.get(java.lang.foreign.ValueLayout.JAVA_LONG, q + 100 * KiB - 8)).isEqualTo(q);
            heap.free(q);
            HeapStats s = heap.stats();
            assertThat(s.liveBytes()).isEqualTo(100);
            assertThat(s.committedBytes()).as("committed with one 100-byte block live: its one-page slab")
                    .isEqualTo(4 * KiB);
            heap.free(kept);
            assertThat(heap.stats().committedBytes()).as("committed with nothing live: the current slab of the class")
                    .isEqualTo(4 * KiB); // kept for the class's next malloc, as at any decay; trim() gives it back
            heap.trim();
            assertThat(heap.stats().committedBytes()).isZero();
        }
        try (Heap heap = Heap.builder().decay(Duration.ZERO).jmx(false).build()) {
            touchEveryClassOnce(heap);
            assertThat(heap.stats().committedBytes()).as("the default budget keeps spares").isGreaterThan(4 * KiB);
        }
    }

    @Test
    void trimGivesTheCallersEmptySlabsBack() {
        try (Heap heap = Heap.builder().decay(Duration.ofHours(1)).jmx(false).build()) {
            touchEveryClassOnce(heap);
            long p = heap.malloc(100); // one live block keeps its slab
            heap.trim();
            HeapStats s = heap.stats();
            assertThat(s.committedBytes()).as("committed after trim with one 100-byte block live: its slab")
                    .isLessThanOrEqualTo(32 * KiB);
            heap.free(p);
            heap.trim();
            assertThat(heap.stats().committedBytes()).isZero();
        }
    }

    @Test
    void aClassInAMallocFreeLoopKeepsWorkingBetweenGrowthSteps() {
        try (Heap heap = Heap.builder().decay(Duration.ZERO).jmx(false).build()) {
            long grown = heap.malloc(16);
            for (int i = 0; i < 2000; i++) {
                long p = heap.malloc(64 * KiB); // a medium class in a loop: its slab becomes a spare at each free
                Blocks.ALL.set(java.lang.foreign.ValueLayout.JAVA_LONG, p + 64 * KiB - 8, i);
                assertThat(heap.usableSize(p)).isGreaterThanOrEqualTo(64 * KiB);
                heap.free(p);
                grown = heap.realloc(grown, 16 + (i * 97L) % (200 * KiB)); // other classes come and go
            }
            assertThat(heap.stats().liveBytes()).isEqualTo(16 + (1999 * 97L) % (200 * KiB));
            heap.free(grown);
            assertThat(heap.stats().committedBytes()).isLessThanOrEqualTo(BOUND);
        }
    }

    /**
     * Spares beyond the budget go to the page layer as dirty pages, not back to the OS: a program in a steady state
     * whose blocks cross many classes reuses them there, and makes no system call (the issue: "a steady-state
     * program does not churn system calls"). A decay of an hour keeps the clock out of it.
     */
    @Test
    void aSteadyStateAcrossManyClassesMakesNoPurges() {
        try (Heap heap = Heap.builder().decay(Duration.ofHours(1)).jmx(false).build()) {
            java.util.SplittableRandom random = new java.util.SplittableRandom(42);
            long[] sizes = new long[600];
            for (int i = 0; i < sizes.length; i++) {
                sizes[i] = i % 100 == 0 ? 1 << 20 : 16L << random.nextInt(15); // 16 B to 256 KiB, some 1 MiB
            }
            long[] blocks = new long[sizes.length];
            long purgesAfterWarmUp = -1, committedAfterWarmUp = -1;
            for (int round = 0; round < 40; round++) {
                for (int i = 0; i < blocks.length; i++) blocks[i] = heap.malloc(sizes[i]);
                for (int i = blocks.length - 1; i > 0; i--) { // free in a new random order every round
                    int j = random.nextInt(i + 1);
                    long t = blocks[i];
                    blocks[i] = blocks[j];
                    blocks[j] = t;
                }
                for (long p : blocks) heap.free(p);
                if (round == 9) {
                    purgesAfterWarmUp = heap.stats().purgeCount();
                    committedAfterWarmUp = heap.stats().peakCommittedBytes();
                }
            }
            HeapStats s = heap.stats();
            assertThat(s.purgeCount()).as("purges in 30 steady rounds").isEqualTo(purgesAfterWarmUp);
            assertThat(s.peakCommittedBytes()).as("peak committed after the warm-up")
                    .isLessThanOrEqualTo(committedAfterWarmUp + 2 * BOUND);
        }
    }

    /**
     * A cache that must take new pages from the OS for a slab first gives back its spares, so that a growing heap
     * does not keep idle empty slabs of another class beside its new pages: after 640 KB of 64-byte blocks were
     * freed (the cache's spare budget full, the rest dirty pages), 4.2 MB of 1000-byte blocks commit no more than
     * their own slabs. Without it the budget's 512 KiB stayed committed on top.
     */
    @Test
    void aCacheThatMustGrowFirstGivesBackItsSpares() {
        try (Heap heap = Heap.builder().decay(Duration.ofHours(1)).jmx(false).build()) {
            long[] small = new long[10_000];
            for (int i = 0; i < small.length; i++) small[i] = heap.malloc(64);
            for (long p : small) heap.free(p);
            assertThat(heap.stats().committedBytes()).as("empty slabs: spares, then dirty pages")
                    .isGreaterThan(600 * KiB);
            long[] blocks = new long[4200];
            for (int i = 0; i < blocks.length; i++) blocks[i] = heap.malloc(1000);
            HeapStats s = heap.stats();
            assertThat(s.liveBytes()).isEqualTo(4_200_000);
            // 1000 B in the 1024 B class: 4.3 MB of blocks in slabs with no tails, 2.4% over the live bytes
            assertThat(s.committedBytes()).as("committed with 4.2 MB live").isLessThan(4200 * 1024 + 128 * KiB);
            for (long p : blocks) heap.free(p);
        }
    }
}
