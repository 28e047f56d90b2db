package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.ToLongFunction;
import org.junit.jupiter.api.Test;
import org.malloc4j.internal.HeapCore;

/**
 * A call on a closed CHECKED heap throws, as on any closed heap, and leaves nothing of the heap with the calling thread.
 * A malloc that the threads' caches do not serve (a page-run block, an aligned block, a calloc's) moved the red zones
 * out of the calling thread's live count before the engine looked whether the heap was open: a thread with no cache
 * in the heap yet registered one after close had let go of the threads' caches, and that thread's ThreadLocal then kept
 * the closed heap (its page layer, caches and slab directory) reachable for as long as the thread lived.
 */
class ClosedCheckedHeapKeepsNoThreadTest {
    private static final List<ToLongFunction<Heap>> CALLS = List.of(h -> h.malloc(1 << 20),
            h -> h.alignedAlloc(64, 16), h -> h.calloc(1, 1 << 20));

    @Test
    void aThreadThatCallsAClosedCheckedHeapDoesNotKeepItReachable() throws Exception {
        AtomicReference<Heap> handed = new AtomicReference<>();
        List<Throwable> thrown = new ArrayList<>();
        CountDownLatch called = new CountDownLatch(1), end = new CountDownLatch(1);
        // A thread that lives on, as a pool's does, and first calls the heap after it closed
        Thread worker = Thread.ofPlatform().unstarted(() -> {
            for (ToLongFunction<Heap> call : CALLS) thrown.add(catchThrowable(() -> call.applyAsLong(handed.get())));
            handed.set(null);
            called.countDown();
            try {
                end.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        ReferenceQueue<HeapCore> queue = new ReferenceQueue<>();
        WeakReference<HeapCore> core = closedCheckedHeap(handed, queue);
        try {
            worker.start();
            called.await();
            assertThat(thrown).allSatisfy(t -> assertThat(t).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("is closed"));
            for (int i = 0; i < 50 && core.get() != null; i++) {
                System.gc();
                queue.remove(100);
            }
            assertThat(core.get()).as("the closed heap's core, its caller still alive").isNull();
        } finally {
            end.countDown();
            worker.join();
        }
    }

    private static WeakReference<HeapCore> closedCheckedHeap(AtomicReference<Heap> handed,
            ReferenceQueue<HeapCore> queue) {
        Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build();
        heap.free(heap.malloc(64));
        heap.close();
        handed.set(heap);
        return new WeakReference<>(MemoryReturnEdgeCasesTest.core(heap), queue);
    }
}
