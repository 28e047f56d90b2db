package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Under a limit, a page-run request the page layer refuses is tried again after the calling thread's cache gives back
 * its spares (HeapCore.takeBlockPages): its empty current slabs hold room the same way, and a request that fits the
 * limit with nothing live must be served.
 */
class EmptyCurrentSlabUnderLimitTest {
    private static final long KiB = 1024;

    @Test
    void aLargeRequestThatFitsTheLimitWithNothingLiveIsServed() {
        try (Heap heap = Heap.builder().limit(1024 * KiB).decay(Duration.ZERO).jmx(false).build()) {
            long[] blocks = new long[6]; // 32 KiB blocks: a first slab of two (64 KiB), then one of four (128 KiB)
            for (int i = 0; i < blocks.length; i++) blocks[i] = heap.malloc(32 * KiB);
            for (int i = blocks.length - 1; i >= 0; i--) heap.free(blocks[i]); // the 128 KiB slab stays current
            assertThat(heap.stats().liveBytes()).isZero();
            long[] p = new long[1];
            // HeapExhaustedException is an OutOfMemoryError, which would end the test JVM's fork: caught here
            Throwable refused = catchThrowable(() -> p[0] = heap.malloc(960 * KiB)); // fits the limit, nothing live
            assertThat(refused).as("a 960 KiB request under a 1 MiB limit with nothing live").isNull();
            heap.free(p[0]);
        }
    }

    /** The same room held by slabs whose blocks another thread freed: their frees wait on the cache's pending stack. */
    @Test
    void aLargeRequestIsServedWhenAnotherThreadFreedEveryBlock() throws InterruptedException {
        try (Heap heap = Heap.builder().limit(1024 * KiB).decay(Duration.ZERO).jmx(false).build()) {
            long[] blocks = new long[6];
            for (int i = 0; i < blocks.length; i++) blocks[i] = heap.malloc(32 * KiB);
            Thread freer = new Thread(() -> {
                for (long b : blocks) heap.free(b);
            });
            freer.start();
            freer.join();
            assertThat(heap.stats().liveBytes()).isZero();
            long[] p = new long[1];
            Throwable refused = catchThrowable(() -> p[0] = heap.malloc(960 * KiB));
            assertThat(refused).as("a 960 KiB request under a 1 MiB limit with nothing live").isNull();
            heap.free(p[0]);
        }
    }
}
