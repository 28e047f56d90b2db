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

    /**
     * Only the main thread has used the heap: its cache's peak is the heap's exact peak, and a page-run block of one
     * thread takes no sample. A virtual thread then allocates 16 bytes: the heap is used by two caches (the main
     * thread's and a stripe), its peak becomes the sampled one, and the stripe's first count folded nothing, where a
     * second platform thread's registration keeps the first thread's exact peak. The 64 MiB block was lost from the
     * peak (16,384 reported, failing in every run before the fix).
     */
    @Test
    void peakSurvivesAVirtualThreadsFirstMalloc() throws Exception {
        try (Heap heap = Heap.builder().decay(Duration.ofHours(1)).jmx(false).build()) {
            long big = 64L << 20;
            heap.free(heap.malloc(big));
            Thread.ofVirtual().start(() -> heap.free(heap.malloc(16))).join();
            HeapStats s = heap.stats();
            assertThat(s.peakLiveBytes()).as("peak live after a virtual thread's malloc (%s)", s)
                    .isGreaterThanOrEqualTo(big);
        }
    }

    /** The same with small blocks: 8 MiB of 1 KiB blocks on the main thread, all freed, then a virtual thread. */
    @Test
    void peakOfSmallBlocksSurvivesAVirtualThreadsFirstMalloc() throws Exception {
        try (Heap heap = Heap.builder().decay(Duration.ofHours(1)).jmx(false).build()) {
            int n = 8192;
            long[] p = new long[n];
            for (int i = 0; i < n; i++) p[i] = heap.malloc(1024);
            for (int i = 0; i < n; i++) heap.free(p[i]);
            Thread.ofVirtual().start(() -> heap.free(heap.malloc(16))).join();
            HeapStats s = heap.stats();
            assertThat(s.peakLiveBytes()).as("peak live after a virtual thread's malloc (%s)", s)
                    .isGreaterThanOrEqualTo(1024L * n);
        }
    }

    /**
     * A platform thread whose first call counts nothing (trim() registers its cache) and which allocates only later,
     * after the main thread's 64 MiB block came and went: its registration folded the main thread's peak of then (0).
     */
    @Test
    void peakSurvivesTheFirstMallocOfACacheRegisteredEarlier() throws Exception {
        try (Heap heap = Heap.builder().decay(Duration.ofHours(1)).jmx(false).build()) {
            long big = 64L << 20;
            java.util.concurrent.CountDownLatch registered = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
            Thread t = Thread.ofPlatform().start(() -> {
                heap.trim(); // registers this thread's cache, counting nothing
                registered.countDown();
                try {
                    go.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                heap.free(heap.malloc(16));
            });
            registered.await();
            heap.free(heap.malloc(big));
            go.countDown();
            t.join();
            HeapStats s = heap.stats();
            assertThat(s.peakLiveBytes()).as("peak live after the other thread's first malloc (%s)", s)
                    .isGreaterThanOrEqualTo(big);
        }
    }
}
