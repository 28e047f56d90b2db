package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Virtual threads share striped caches, and a stripe collects the remote frees of its blocks on its slow path only: a
 * virtual thread of that stripe must malloc. A program whose virtual threads allocate blocks, hand them to a platform
 * thread and end left them there: the platform thread's frees were queued on the stripes' pending stacks, which only
 * the first stripe's was collected (by the purger, for the dead caches it adopts there), and the other stripes' slabs,
 * empty, stayed committed for good (decay 0, no spares: 6.1 MB of 8.2 with nothing live on a 4-stripe machine).
 */
class VirtualThreadsBlocksFreedByOthersGoBackTest {
    private static final long KiB = 1024;

    @Test
    void blocksOfEndedVirtualThreadsFreedByAPlatformThreadGoBack() throws Exception {
        try (Heap heap = Heap.builder().decay(Duration.ZERO).spareBytes(0).jmx(false).build()) {
            heap.free(heap.malloc(64));
            int threads = 64, each = 2000; // ids spread over every stripe
            long[][] blocks = new long[threads][each];
            Thread[] virtual = new Thread[threads];
            for (int t = 0; t < threads; t++) {
                long[] mine = blocks[t];
                virtual[t] = Thread.ofVirtual().start(() -> {
                    for (int i = 0; i < mine.length; i++) mine[i] = heap.malloc(64);
                });
            }
            for (Thread t : virtual) t.join();
            for (long[] mine : blocks) for (long b : mine) heap.free(b);
            // A bounded wait for the purger thread (it looks at least once a second), as for its adoptions
            boolean back = Internals.await(() -> heap.stats().committedBytes() < 1024 * KiB);
            HeapStats s = heap.stats();
            assertThat(s.liveBytes()).isZero();
            assertThat(back).as("committed with nothing live, decay 0, no spares (%s)", s).isTrue();
        }
    }
}
