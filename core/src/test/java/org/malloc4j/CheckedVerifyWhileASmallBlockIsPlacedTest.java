package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.malloc4j.Internals.await;
import static org.malloc4j.Internals.field;

import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A CHECKED verify() while another thread's small malloc is under way between the engine's block and its header:
 * verify() found the block live with no valid header, twice, and reported "underflow: the red zone 16 byte(s) before
 * the block overwritten" of a correct program's block (the thread-death fuzz, {@link ThreadDeathUnderALimitProperties}:
 * 584 such reports in 240 s, threads descheduled there). The interleaving is made on cue, with no hook in the heap:
 * every block is sampled, and a sampled malloc records its site after the engine's call and before the header; when
 * the record pushes out an older one whose site is still to be interned, it interns that site under the recorder's
 * lock, which the test holds. The malloc's thread is a platform thread with its cache (found without a ThreadLocal),
 * one whose first malloc this is (its cache registered by it), or a virtual thread (its stripe, shared).
 */
class CheckedVerifyWhileASmallBlockIsPlacedTest {
    /** Sampled blocks that fill every stripe of the recorder's waiting records (32 stripes of 128). */
    private static final int FILL = 16_384;

    @ParameterizedTest
    @ValueSource(strings = {"platform", "platform's first malloc", "virtual"})
    void verifyDoesNotReportASmallBlockWhoseMallocIsUnderWay(String kind) throws Exception {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).quarantine(0).trackSites(1).build()) {
            Object core = field(heap, Heap.class, "core");
            Object sites = field(core, Class.forName("org.malloc4j.internal.HeapCore"), "sites");
            Class<?> recorder = Class.forName("org.malloc4j.internal.sites.SiteRecorder");
            ReentrantLock interning = (ReentrantLock) field(sites, recorder, "interning");
            Map<?, ?> interned = (Map<?, ?>) field(sites, recorder, "sites");
            CountDownLatch warmed = new CountDownLatch(1), go = new CountDownLatch(1);
            AtomicLong warm = new AtomicLong(), block = new AtomicLong();
            Runnable malloc = () -> {
                if (kind.equals("platform")) warm.set(heap.malloc(16)); // its cache registered
                warmed.countDown();
                try {
                    go.await();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                block.set(heap.malloc(16));
            };
            Thread t = (kind.equals("virtual") ? Thread.ofVirtual() : Thread.ofPlatform()).unstarted(malloc);
            t.start();
            warmed.await();
            long[] fill = new long[FILL];
            for (int i = 0; i < FILL; i++) fill[i] = heap.malloc(16);
            interned.clear(); // the fill's site, whose waiting records the malloc's record pushes out, interned anew
            interning.lock();
            try {
                go.countDown();
                assumeThat(await(() -> interning.hasQueuedThread(t))).as("the malloc records its site").isTrue();
                assertThat(heap.verify()).as("verify() while the block's malloc is under way").isEmpty();
            } finally {
                interning.unlock();
            }
            t.join();
            assertThat(heap.verify()).isEmpty();
            heap.free(block.get());
            if (warm.get() != 0) heap.free(warm.get());
            for (long p : fill) heap.free(p);
            assertThat(heap.verify()).isEmpty();
        }
    }
}
