package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * The spare budget ({@link Heap.Builder#spareBytes}, 512 KiB by default) bounds the empty slabs of all the heap's
 * thread caches together, not of each: one thread alone keeps the whole budget, as before it was shared, and four
 * threads together keep about the budget, where each kept all of it (2 MiB committed with nothing live). Decay 0, so
 * that slabs given back leave the committed bytes at once.
 */
class SpareBudgetSharedByThreadsTest {
    private static final long KiB = 1024, BUDGET = 512 * KiB, BLOCK = 128 * KiB;
    /** The least share of a cache, however many threads ({@code ThreadCaches.SPARE_FLOOR}): the bound's slack. */
    private static final long FLOOR = 128 * KiB;

    /** Four medium blocks of 128 KiB (one slab each), freed: a cache's whole default budget on its medium stacks. */
    private static void fillAndEmptyTheBudget(Heap heap, CountDownLatch allHold) {
        List<Long> blocks = new ArrayList<>();
        for (long n = 0; n < BUDGET; n += BLOCK) {
            long p = heap.malloc(BLOCK);
            Blocks.ALL.set(ValueLayout.JAVA_LONG, p + BLOCK - 8, p);
            blocks.add(p);
        }
        allHold.countDown();
        await(allHold); // every cache holds its slabs before any frees: each frees knowing its share
        for (long p : blocks) heap.free(p);
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Test
    void oneThreadAloneKeepsTheWholeBudget() {
        try (Heap heap = Heap.builder().decay(Duration.ZERO).jmx(false).build()) {
            fillAndEmptyTheBudget(heap, new CountDownLatch(1));
            HeapStats s = heap.stats();
            assertThat(s.liveBytes()).isZero();
            assertThat(s.committedBytes()).as("one thread's empty medium slabs, its whole budget").isEqualTo(BUDGET);
        }
    }

    @Test
    void threadsTogetherKeepAboutTheBudgetAndAThreadLeftAloneGetsItBack() throws Exception {
        int threads = 4;
        try (Heap heap = Heap.builder().decay(Duration.ZERO).jmx(false).build()) {
            CountDownLatch allHold = new CountDownLatch(threads);
            CountDownLatch freed = new CountDownLatch(threads - 1), end = new CountDownLatch(1);
            List<Thread> others = new ArrayList<>();
            try {
                for (int i = 1; i < threads; i++) {
                    others.add(Thread.ofPlatform().daemon().start(() -> {
                        fillAndEmptyTheBudget(heap, allHold);
                        freed.countDown();
                        await(end); // alive, so that its cache keeps its spares (a dead thread's are given back)
                    }));
                }
                fillAndEmptyTheBudget(heap, allHold);
                freed.await();
                HeapStats s = heap.stats();
                assertThat(s.liveBytes()).isZero();
                assertThat(s.committedBytes()).as("four threads' empty slabs, nothing live (each kept %d KiB before)",
                        BUDGET / KiB).isLessThanOrEqualTo(BUDGET + FLOOR);
            } finally {
                end.countDown();
                for (Thread t : others) t.join();
            }
            heap.trim(); // adopts the dead threads' caches: this thread is the only one left holding slabs
            fillAndEmptyTheBudget(heap, new CountDownLatch(1));
            assertThat(heap.stats().committedBytes()).as("one thread left alone: its whole budget again")
                    .isEqualTo(BUDGET);
        }
    }
}
