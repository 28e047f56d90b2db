package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Thread death: a small request refused for want of pages for a new slab adopts the caches of ended threads before it
 * gives up (RefusalAdoptsEndedThreadsCachesTest). A slab so adopted that still holds a live block, with room in the
 * request's class, is then in the caller's own cache: the request was refused all the same, a free block of its size
 * there, because the slab was asked of the page layer once more instead of looked for in the cache.
 */
class RefusalServedByAnAdoptedSlabTest {
    @Test
    void aSmallRequestAtTheLimitIsServedFromASlabItAdopted() throws Exception {
        try (Heap heap = Heap.builder().limit(1 << 20).jmx(false).build()) {
            long mine = heap.malloc(16); // this thread's cache: one slab, of another class, not empty (no spare)
            AtomicLong kept = new AtomicLong();
            CountDownLatch allocated = new CountDownLatch(1), end = new CountDownLatch(1);
            Thread other = Thread.ofPlatform().start(() -> {
                long[] blocks = new long[8];
                for (int i = 0; i < blocks.length; i++) blocks[i] = heap.malloc(48);
                for (int i = 1; i < blocks.length; i++) heap.free(blocks[i]);
                kept.set(blocks[0]); // its slab keeps a live block, and room for seven more
                allocated.countDown();
                try {
                    end.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            allocated.await();
            // The heap at its limit, the other thread alive: its cache is adopted only by the refusal below (a
            // refusal here, or the purger, would adopt it first)
            long fill;
            try {
                fill = heap.malloc((1 << 20) - heap.stats().committedBytes());
            } catch (HeapExhaustedException e) {
                throw new AssertionError("the fill was refused: " + e.getMessage());
            }
            end.countDown();
            other.join();
            long p;
            try {
                p = heap.malloc(48);
            } catch (HeapExhaustedException e) {
                throw new AssertionError("refused with free 48-byte blocks in a slab it adopted: " + e.getMessage());
            }
            assertThat(heap.usableSize(p)).isEqualTo(48);
            heap.free(p);
            heap.free(fill);
            heap.free(kept.get());
            heap.free(mine);
            assertThat(heap.stats().liveBytes()).isZero();
        }
    }
}
