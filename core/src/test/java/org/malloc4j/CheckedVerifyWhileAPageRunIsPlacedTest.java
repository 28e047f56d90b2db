package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.malloc4j.Internals.await;
import static org.malloc4j.Internals.field;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;
import org.malloc4j.internal.small.LocalHeap;

/**
 * A CHECKED verify() while another thread's page-run malloc is under way between the engine's pages and the block's
 * header: the virtual thread's engine counts the block under its stripe's lock after the page layer handed it out,
 * and waits there when another virtual thread of its stripe holds it. verify() found the block live with no valid
 * header yet, twice, and reported "underflow: the red zone 16 byte(s) before the block overwritten" of a correct
 * program's block (the thread-death fuzz, {@link ThreadDeathUnderALimitProperties}: 1,500 such reports in 5 s of
 * four virtual threads allocating page runs). The interleaving is made on cue: the test holds the page lock until the
 * thread waits for it (past its first count), then the stripe's lock, which the thread's count after the pages waits
 * for.
 */
class CheckedVerifyWhileAPageRunIsPlacedTest {
    private static boolean inside(Thread t, String method) {
        return Arrays.stream(t.getStackTrace()).anyMatch(e -> e.getMethodName().equals(method));
    }

    @Test
    void verifyDoesNotReportABlockWhoseMallocIsUnderWay() throws Exception {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).quarantine(0).build()) {
            long first = heap.malloc(300_000);
            FuzzCampaign.fill(first, 300_000, 1); // a correct program's bytes where the next page run's header goes
            heap.free(first);
            Object core = field(heap, Heap.class, "core");
            Class<?> coreClass = Class.forName("org.malloc4j.internal.HeapCore");
            ReentrantLock pageLock = (ReentrantLock) Class.forName("org.malloc4j.internal.page.PageHeap")
                    .getMethod("lock").invoke(field(core, coreClass, "pages"));
            Object caches = field(core, coreClass, "caches");
            LocalHeap[] stripes = (LocalHeap[]) field(caches, caches.getClass(), "stripes");
            AtomicLong block = new AtomicLong();
            Thread t = Thread.ofVirtual().unstarted(() -> block.set(heap.malloc(400_000)));
            LocalHeap stripe = stripes[(int) t.threadId() & (stripes.length - 1)];
            boolean held = false;
            pageLock.lock();
            try {
                t.start();
                assumeThat(await(() -> pageLock.hasQueuedThread(t))).as("the malloc waits for the pages").isTrue();
                held = await(stripe.lock()::tryLock); // free: the thread counted before it asked for the pages
            } finally {
                pageLock.unlock();
            }
            try {
                assumeThat(held).as("the stripe's lock taken").isTrue();
                assumeThat(await(() -> inside(t, "countLargeMalloc"))).as("the malloc counts its pages").isTrue();
                assertThat(heap.verify()).as("verify() while the block's malloc is under way").isEmpty();
            } finally {
                if (held) stripe.lock().unlock();
            }
            t.join();
            assertThat(heap.verify()).isEmpty();
            heap.free(block.get());
        }
    }
}
