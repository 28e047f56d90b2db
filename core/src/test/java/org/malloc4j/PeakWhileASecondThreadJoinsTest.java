package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;

/**
 * While one thread alone has used a heap, its cache's peak is the heap's exact peak; once a second thread counts, the
 * peak is the sampled one, with the first thread's exact peak kept aside when the second joined. stats() read the
 * caches' counters (that exact peak among them) under the caches' registry lock, then asked outside it, after taking
 * the page lock, whether one thread alone had used the heap: a second thread that joined in between made it take the
 * sampled peak with the kept peak as read before the join (none), and a 200 KB block the first thread had allocated
 * and freed was missing from the peak that call reported (64 bytes), though it was live before the call began.
 */
class PeakWhileASecondThreadJoinsTest {
    @Test
    void statsThatASecondThreadsFirstCountOvertakesKeepTheFirstThreadsPeak() throws Exception {
        try (Heap heap = Heap.builder().jmx(false).build()) {
            long small = heap.malloc(64);
            heap.free(heap.malloc(200_000)); // this thread alone: its cache's peak, not sampled
            Object core = Internals.field(heap, Heap.class, "core");
            Object pages = Internals.field(core, core.getClass(), "pages");
            ReentrantLock pageLock = (ReentrantLock) pages.getClass().getMethod("lock").invoke(pages);
            AtomicReference<HeapStats> read = new AtomicReference<>();
            Thread reader;
            pageLock.lock();
            try {
                reader = Thread.ofPlatform().start(() -> read.set(heap.stats()));
                // The reader has summed the caches and waits for the page lock
                assertThat(Internals.await(() -> pageLock.hasQueuedThread(reader))).isTrue();
                // A second thread's first count: a free of the first thread's block (no page lock on its way)
                Thread second = Thread.ofPlatform().start(() -> heap.free(small));
                second.join();
            } finally {
                pageLock.unlock();
            }
            reader.join();
            assertThat(read.get().peakLiveBytes()).as("peak read while a second thread joined (%s)", read.get())
                    .isGreaterThanOrEqualTo(200_064);
            assertThat(heap.stats().peakLiveBytes()).isGreaterThanOrEqualTo(200_064);
        }
    }
}
