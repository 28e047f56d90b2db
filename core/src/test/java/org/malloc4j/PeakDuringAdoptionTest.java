package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The sampled peak of a heap several threads use, while dead threads' caches are adopted. An adoption folds the dead
 * cache's live bytes into the retired total and then takes the cache off the list of caches in use; a sample taken
 * between the two (any slow path of another thread: here a page-run malloc, which samples after it counts) read the
 * list with the dead cache on it and the total with its bytes in it, counted them twice, and kept that as the peak for
 * good: a heap that never held more than 16 blocks of 256 MiB reported a peak of 17 or more. A race: a stress that
 * failed within its first few hundred adoptions in every run before the fix (2 cores).
 */
class PeakDuringAdoptionTest {
    private static final long BIG = 256L << 20;
    private static final int DEAD = 16;
    private static final int ROUNDS = 200;

    @Test
    void aSampleDuringAnAdoptionNeverCountsTheDeadCacheTwice() throws Exception {
        try (Heap heap = Heap.builder().decay(Duration.ofHours(1)).jmx(false).build()) {
            heap.free(heap.malloc(16)); // this thread uses the heap: the peak is the sampled one
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch sampling = new CountDownLatch(1);
            // Samples the peak over and over: every page-run malloc of a heap several threads use takes a sample
            Thread sampler = Thread.ofPlatform().name("sampler").start(() -> {
                try {
                    heap.free(heap.malloc(300_000));
                    sampling.countDown();
                    while (!stop.get()) heap.free(heap.malloc(300_000));
                } catch (Throwable t) {
                    failure.set(t);
                    sampling.countDown();
                }
            });
            sampling.await();
            // The most ever live: DEAD blocks of BIG, the sampler's block and a few small ones
            long bound = DEAD * BIG + (1L << 20);
            long[] blocks = new long[DEAD];
            try {
                for (int round = 0; round < ROUNDS && failure.get() == null; round++) {
                    Thread[] dead = new Thread[DEAD];
                    for (int i = 0; i < DEAD; i++) {
                        int k = i;
                        dead[i] = Thread.ofPlatform().start(() -> blocks[k] = heap.malloc(BIG)); // lives on after it
                    }
                    for (Thread t : dead) t.join();
                    heap.trim(); // adopts the DEAD caches, one after another, while the sampler samples
                    for (long p : blocks) heap.free(p);
                    HeapStats s = heap.countersForTests();
                    assertThat(s.peakLiveBytes()).as("peak after round %d (%s)", round, s).isLessThanOrEqualTo(bound);
                }
            } finally {
                stop.set(true);
                sampler.join();
            }
            assertThat(failure.get()).isNull();
        }
    }
}
