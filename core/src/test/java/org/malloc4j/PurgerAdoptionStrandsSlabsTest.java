package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The purger now adopts a dead thread's cache into stripe 0, the first of the caches shared by virtual threads. A
 * program without virtual threads never uses that stripe: its remote frees are queued on the stripe's pending stack,
 * which only the stripe's own slow path (a virtual thread) or trim() collects. A producer thread that allocates blocks
 * and ends, and a consumer that frees them after the purger adopted the producer's cache: the consumer's frees are
 * remote frees to stripe 0, collected never, and the producer's slabs, empty, stay committed for good (decay 0),
 * however many slow paths the consumer takes. Before, the consumer's own slow path adopted the dead cache, into its
 * own cache, where its frees were local.
 */
class PurgerAdoptionStrandsSlabsTest {
    private static final long KiB = 1024;

    @Test
    void blocksOfADeadThreadFreedAfterThePurgerAdoptedItGoBack() throws Exception {
        try (Heap heap = Heap.builder().decay(Duration.ZERO).jmx(false).build()) {
            heap.free(heap.malloc(64));
            long[] blocks = new long[20_000];
            Thread producer = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < blocks.length; i++) blocks[i] = heap.malloc(64);
            });
            producer.join();
            int withProducer = heap.stats().threadCaches();
            // Bounded wait for the purger's adoption (it looks at least once a second)
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (heap.stats().threadCaches() == withProducer && System.nanoTime() < deadline) Thread.onSpinWait();
            for (long b : blocks) heap.free(b);
            // The consumer goes on with small blocks of its own, taking slow paths (new slabs) all the while
            for (int round = 0; round < 50; round++) {
                long[] mine = new long[2000];
                for (int i = 0; i < mine.length; i++) mine[i] = heap.malloc(96 + 16 * (round % 8));
                for (long b : mine) heap.free(b);
            }
            // Up to ten seconds for a fix by the purger thread (as MemoryReturnEdgeCasesTest waits)
            deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (heap.stats().committedBytes() >= 1280 * KiB && System.nanoTime() < deadline) Thread.onSpinWait();
            HeapStats s = heap.stats();
            assertThat(s.liveBytes()).isZero();
            // the consumer's and the stripe's spares (512 KiB each at most) may stay; not the producer's 1.3 MB
            assertThat(s.committedBytes()).as("committed with nothing live, decay 0 (%s)", s)
                    .isLessThan(1280 * KiB);
        }
    }
}
