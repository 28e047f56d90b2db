package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The purger adopts the caches of ended threads into the first stripe (a virtual threads' cache). A platform thread
 * whose small request the limit refused could not use the free blocks of such a slab, with room in the request's
 * class: it was refused a 48-byte block with 300-odd free ones in the stripe. A refusal now takes its block from a
 * stripe that has one free (as a virtual thread of that stripe would), before it gives up.
 */
class RefusalServedFromAStripeTest {
    @Test
    void aPlatformThreadAtTheLimitIsServedFromASlabAStripeAdopted() throws Exception {
        try (Heap heap = Heap.builder().limit(1 << 20).jmx(false).build()) {
            long mine = heap.malloc(16); // this thread's cache: one slab, of another class, not empty (no spare)
            AtomicLong kept = new AtomicLong();
            Thread other = Thread.ofPlatform().start(() -> {
                long[] blocks = new long[8];
                for (int i = 0; i < blocks.length; i++) blocks[i] = heap.malloc(48);
                for (int i = 1; i < blocks.length; i++) heap.free(blocks[i]);
                kept.set(blocks[0]); // its slab keeps a live block, and room for more
            });
            other.join();
            // The purger's pass (or, had it come first, a second one that finds nothing): the ended thread's cache
            // into the first stripe
            Object core = Internals.field(heap, Heap.class, "core");
            Method reap = core.getClass().getDeclaredMethod("reapDeadCaches");
            reap.setAccessible(true);
            reap.invoke(core);
            long fill;
            try {
                fill = heap.malloc((1 << 20) - heap.stats().committedBytes());
            } catch (HeapExhaustedException e) {
                throw new AssertionError("the fill was refused: " + e.getMessage());
            }
            long p;
            try {
                p = heap.malloc(48);
            } catch (HeapExhaustedException e) {
                throw new AssertionError("refused with free 48-byte blocks in a stripe: " + e.getMessage());
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
