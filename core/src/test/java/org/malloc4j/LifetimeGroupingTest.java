package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/**
 * How blocks of different lifetimes pin each other's pages (docs/architecture.md, "Grouping by lifetime"): 16
 * short-lived blocks for every long-lived one, of the same sizes, then the short-lived ones freed and the heap
 * trimmed. Mixed in one size class and one thread, the long-lived survivors are spread over every slab, so nearly
 * all pages stay committed. Slabs belong to one thread's cache, so short-lived blocks allocated on another thread
 * never share a slab with the long-lived ones, and their pages go back; so do those of a heap of their own.
 */
class LifetimeGroupingTest {
    private static final int ROUNDS = 4096, SHORT_PER_LONG = 16;
    private static final long SIZE = 256;

    @Test
    void mixedLifetimesPinPagesAndAnotherThreadKeepsThemApart() throws Exception {
        long live = ROUNDS * SIZE;
        long mixed = pinnedAfterShortLivedFreed(false);
        long apart = pinnedAfterShortLivedFreed(true);
        // Mixed: one survivor per 17 blocks keeps every slab: about 17x the live bytes stay committed.
        assertThat(mixed).isGreaterThan(10 * live);
        // Apart: the survivors fill their own slabs; only rounding and one partly used slab remain.
        assertThat(apart).isLessThan(live + live / 2);
    }

    /** @return committed bytes after the short-lived blocks are freed and the heap trimmed */
    private static long pinnedAfterShortLivedFreed(boolean shortLivedOnAnotherThread) throws Exception {
        try (Heap heap = Heap.builder().decay(Duration.ZERO).jmx(false).build()) {
            List<Long> longLived = new ArrayList<>();
            List<Long> shortLived = new ArrayList<>();
            ExecutorService other = shortLivedOnAnotherThread ? Executors.newSingleThreadExecutor() : null;
            for (int r = 0; r < ROUNDS; r++) {
                for (int k = 0; k < SHORT_PER_LONG; k++) {
                    shortLived.add(other == null ? heap.malloc(SIZE) : other.submit(() -> heap.malloc(SIZE)).get());
                }
                longLived.add(heap.malloc(SIZE));
            }
            for (long p : shortLived) heap.free(p); // from this thread: remote frees for the other thread's slabs
            if (other != null) {
                other.submit(heap::trim).get(); // the owner collects its remote frees and returns empty slabs
                other.shutdown();
            }
            heap.trim();
            HeapStats s = heap.stats();
            assertThat(s.liveBytes()).isEqualTo(ROUNDS * SIZE);
            long committed = s.committedBytes();
            for (long p : longLived) heap.free(p);
            return committed;
        }
    }
}
