package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.malloc4j.internal.HeapCore;
import org.malloc4j.internal.small.ThreadCaches;

/**
 * A call that may race close (trim(), the MBean's trim operation on a JMX thread) passes its open check just before
 * close and reaches the threads' caches after it: its thread, with no cache in the heap yet, registers one. Close had
 * already let go of the threads' caches ({@code ThreadCaches.forgetThreads}), so the new cache stayed in the thread's
 * ThreadLocal, and that thread (a pool's, which lives as long as the process) kept the closed heap reachable for good.
 * The test makes the race's order on cue: the caches are asked for after close.
 */
class CacheRegisteredAfterCloseTest {
    @Test
    void aCacheRegisteredAfterCloseDoesNotKeepTheHeapReachable() throws Exception {
        AtomicReference<ThreadCaches> handed = new AtomicReference<>();
        CountDownLatch asked = new CountDownLatch(1), end = new CountDownLatch(1);
        Thread worker = Thread.ofPlatform().unstarted(() -> {
            handed.getAndSet(null).get(); // what trim()'s hold() does once its check has passed
            asked.countDown();
            try {
                end.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        ReferenceQueue<HeapCore> queue = new ReferenceQueue<>();
        WeakReference<HeapCore> core = closedHeap(handed, queue);
        try {
            worker.start();
            asked.await();
            for (int i = 0; i < 50 && core.get() != null; i++) {
                System.gc();
                queue.remove(100);
            }
            assertThat(core.get()).as("the closed heap's core, the thread that reached its caches still alive").isNull();
        } finally {
            end.countDown();
            worker.join();
        }
    }

    private static WeakReference<HeapCore> closedHeap(AtomicReference<ThreadCaches> handed,
            ReferenceQueue<HeapCore> queue) throws ReflectiveOperationException {
        Heap heap = Heap.builder().jmx(false).build();
        heap.free(heap.malloc(64));
        HeapCore core = MemoryReturnEdgeCasesTest.core(heap);
        heap.close();
        handed.set((ThreadCaches) Internals.field(core, HeapCore.class, "caches"));
        return new WeakReference<>(core, queue);
    }
}
