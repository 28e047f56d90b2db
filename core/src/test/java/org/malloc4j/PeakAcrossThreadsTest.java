package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The peak of live bytes when more than one thread has used the heap (where it is sampled, not kept exactly by one
 * cache). Found by a review on 2026-12-07, each failing before: a page-run block was sampled before it was counted,
 * so a 64 MiB block another thread allocated and freed never reached the peak (16 bytes reported); and the exact
 * peak of the only thread that had allocated was lost when its cache was adopted (64 MiB, then 0).
 */
class PeakAcrossThreadsTest {

    /**
     * Two platform threads use the heap, so its peak is the sampled one. One of them allocates a 64 MiB block (a
     * page-layer slow path, which samples the peak) and frees it: the heap held 64 MiB live at that moment, and its
     * peak must say so.
     */
    @Test
    void peakHoldsALargeBlockAnotherThreadAllocatedAndFreed() throws Exception {
        try (Heap heap = Heap.builder().decay(Duration.ofHours(1)).jmx(false).build()) {
            long small = heap.malloc(16); // this thread uses the heap too
            long big = 64L << 20;
            Thread t = Thread.ofPlatform().start(() -> {
                long p = heap.malloc(big);
                heap.free(p);
            });
            t.join();
            HeapStats s = heap.stats();
            assertThat(s.peakLiveBytes()).as("peak live after a 64 MiB block lived (%s)", s)
                    .isGreaterThanOrEqualTo(big + 16);
            heap.free(small);
        }
    }

    /** The same with the other thread still alive (its cache not adopted). */
    @Test
    void peakHoldsALargeBlockWhileBothThreadsLive() throws Exception {
        try (Heap heap = Heap.builder().decay(Duration.ofHours(1)).jmx(false).build()) {
            long small = heap.malloc(16);
            long big = 64L << 20;
            java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch end = new java.util.concurrent.CountDownLatch(1);
            Thread t = Thread.ofPlatform().start(() -> {
                long p = heap.malloc(big);
                heap.free(p);
                done.countDown();
                try {
                    end.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            done.await();
            HeapStats s = heap.stats();
            end.countDown();
            t.join();
            assertThat(s.peakLiveBytes()).as("peak live after a 64 MiB block lived (%s)", s)
                    .isGreaterThanOrEqualTo(big + 16);
            heap.free(small);
        }
    }

    /**
     * Only one thread ever allocates: a worker allocates one 64 MiB block, frees it and
     * ends; the program then calls trim(), which adopts the dead thread's cache. Nothing else happened, yet the peak
     * of live bytes falls from 64 MiB to 0 across the trim.
     */
    @Test
    void peakSurvivesTheAdoptionOfTheOnlyAllocatingThreadsCache() throws Exception {
        try (Heap heap = Heap.builder().decay(Duration.ofHours(1)).jmx(false).build()) {
            long big = 64L << 20;
            Thread t = Thread.ofPlatform().start(() -> heap.free(heap.malloc(big)));
            t.join();
            heap.trim(); // adopts the dead thread's cache
            HeapStats s = heap.stats();
            assertThat(s.peakLiveBytes()).as("peak live after trim (%s)", s).isGreaterThanOrEqualTo(big);
        }
    }

    /** The same with small blocks: a worker takes 8 MiB of 1 KiB blocks, frees them and ends; then trim(). */
    @Test
    void peakOfSmallBlocksSurvivesTheAdoption() throws Exception {
        try (Heap heap = Heap.builder().decay(Duration.ofHours(1)).jmx(false).build()) {
            int n = 8192;
            Thread t = Thread.ofPlatform().start(() -> {
                long[] p = new long[n];
                for (int i = 0; i < n; i++) p[i] = heap.malloc(1024);
                for (int i = 0; i < n; i++) heap.free(p[i]);
            });
            t.join();
            heap.trim();
            HeapStats s = heap.stats();
            assertThat(s.peakLiveBytes()).as("peak live after trim (%s)", s).isEqualTo(1024L * n);
        }
    }
}
