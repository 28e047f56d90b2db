package org.malloc4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * A page-run malloc (and a realloc that grows one) samples the heap's peak once several threads use the heap, and
 * asked first whether one thread alone did by looking at every thread's cache: O(threads) per malloc, so that with
 * 200 threads each malloc of a 300 KB block read 200 caches (and more, the stripes). Once a second thread has counted
 * the answer stays no (adopted caches never uncount), so the walk happens once, not per malloc.
 */
class PageRunMallocDoesNotWalkTheCachesTest {
    @Test
    void aPageRunMallocLooksAtNoCacheOnceSeveralThreadsHaveCounted() throws Exception {
        HeapCore core = new HeapCore("walk", 1L << 30, Long.MAX_VALUE, 1_000_000_000L, 32L << 20, 0, 1L << 20);
        int threads = 200;
        CountDownLatch counted = new CountDownLatch(threads), finish = new CountDownLatch(1);
        Thread[] users = new Thread[threads];
        try {
            for (int i = 0; i < threads; i++) {
                users[i] = Thread.ofPlatform().start(() -> {
                    core.free(core.malloc(16)); // a cache that has counted, its thread alive
                    counted.countDown();
                    try {
                        finish.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            }
            counted.await();
            core.free(core.malloc(300_000)); // the first look may walk the caches
            long looked = core.cachesLooked();
            for (int i = 0; i < 100; i++) core.free(core.malloc(300_000));
            assertThat(core.cachesLooked() - looked).as("caches looked at by 100 page-run mallocs, %d threads", threads)
                    .isLessThan(100);
        } finally {
            finish.countDown();
            for (Thread t : users) if (t != null) t.join();
            core.close();
        }
    }
}
