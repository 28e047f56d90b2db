package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A CHECKED malloc the engine refuses lets the calling thread's quarantine go and tries again. Found by a review on
 * 2026-12-07: it tried again only when the count of quarantined blocks, all threads together, went down meanwhile;
 * another thread freeing at the same time kept that count up, and 97 of 100 mallocs threw though the caller's own
 * ring had given their memory back (none with the other thread idle). It now counts the blocks its own call released.
 */
class CheckedRefusedMallocRetryTest {
    @Test
    void aRefusedMallocRetriesAfterItsOwnQuarantineWentEvenWhileAnotherThreadFrees() throws Exception {
        run(true);
    }

    @Test
    void controlWithTheOtherThreadIdle() throws Exception { // its ring full as above, but no free meanwhile
        run(false);
    }

    private static void run(boolean churnAll) throws Exception {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).limit(16L << 20).jmx(false).build()) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong churned = new AtomicLong();
            Thread other = new Thread(() -> {
                // churnAll:  // frees all along: its ring full, it evicts 16 blocks every 16 frees
                while (!stop.get()) {
                    if (!churnAll && churned.get() >= 200_000) {
                        Thread.onSpinWait();
                        continue;
                    }
                    try {
                        heap.free(heap.malloc(16));
                        churned.incrementAndGet();
                    } catch (HeapExhaustedException e) {
                        // at the limit now and then
                    }
                }
            });
            other.start();
            while (churned.get() < 200_000) Thread.onSpinWait();
            ExecutorService filler = Executors.newSingleThreadExecutor(); // a platform thread of its own
            List<Long> filled = new ArrayList<>();
            Runnable topUp = () -> { // takes every 64 KiB the limit still allows, kept live
                try {
                    while (true) filled.add(heap.malloc(64 << 10));
                } catch (HeapExhaustedException full) {
                    // the heap is at its limit
                }
            };
            long mine = heap.malloc(1 << 20);
            heap.free(mine); // 1 MiB in this thread's quarantine
            int refused = 0, tries = 100;
            for (int i = 0; i < tries; i++) {
                filler.submit(topUp).get(); // less than 64 KiB left under the limit
                try {
                    long q = heap.malloc(1 << 20); // refused, then served by this thread's quarantined 1 MiB
                    heap.free(q); // back in this thread's quarantine for the next try
                } catch (HeapExhaustedException e) {
                    refused++;
                }
            }
            stop.set(true);
            other.join();
            filler.submit(() -> {
                for (long p : filled) heap.free(p);
            }).get();
            filler.shutdown();
            assertThat(refused).as("mallocs of 1 MiB refused of %d, each with 1 MiB in the caller's own quarantine",
                    tries).isZero();
        }
    }
}
