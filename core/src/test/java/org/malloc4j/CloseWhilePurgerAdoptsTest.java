package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.malloc4j.Internals.await;
import static org.malloc4j.Internals.field;

import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;
import org.malloc4j.internal.small.LocalHeap;

/**
 * HeapCore.close() now empties the threads' slots (ThreadCaches.forgetThreads, which takes the registry lock) while it
 * holds the page lock. The purger thread, which now adopts dead threads' caches on every pass, holds the registry lock
 * and takes the page lock for each empty slab it gives back (adopt -> releaseSlab -> lockOpen): opposite orders. A
 * program whose worker threads ended and which then closes its heap can deadlock its close() with the purger, and the
 * one purger thread of the process then purges no heap again.
 *
 * <p>The interleaving is made deterministic: the test holds stripe 0's lock so that the purger waits inside
 * reapDeadIntoStripe (past its closed check), and holds the monitor of Monitoring's label set so that close() waits
 * inside its page-locked section (Monitoring.unlabel), until the purger is queued on the page lock. Run this class
 * alone: on failure the purger thread and the closing thread stay deadlocked for the rest of the JVM.
 */
class CloseWhilePurgerAdoptsTest {
    @Test
    void closeDoesNotDeadlockWithThePurgersAdoptionOfADeadThreadsCache() throws Exception {
        Heap heap = Heap.builder().jmx(false).build();
        heap.free(heap.malloc(64)); // this thread's cache is the primary one
        Object core = field(heap, Heap.class, "core");
        Class<?> coreClass = Class.forName("org.malloc4j.internal.HeapCore");
        ReentrantLock pageLock = (ReentrantLock) Class.forName("org.malloc4j.internal.page.PageHeap")
                .getMethod("lock").invoke(field(core, coreClass, "pages"));
        Object caches = field(core, coreClass, "caches");
        LocalHeap stripe0 = ((LocalHeap[]) field(caches, caches.getClass(), "stripes"))[0];
        Object labels = field(null, Class.forName("org.malloc4j.internal.monitor.Monitoring"), "LABELS");

        Thread closer;
        stripe0.lock().lock();
        try {
            // A worker leaves empty slabs in its cache and ends: the purger's next pass adopts them
            Thread.ofPlatform().start(() -> {
                long[] blocks = new long[500];
                for (int i = 0; i < blocks.length; i++) blocks[i] = heap.malloc(64 + 16 * (i % 20));
                for (long b : blocks) heap.free(b);
            }).join();
            assumeThat(await(() -> purgerIn("reapDeadIntoStripe"))).as("the purger waits for stripe 0").isTrue();
            synchronized (labels) {
                closer = Thread.ofPlatform().daemon().start(heap::close);
                boolean closerInside = await(() -> pageLock.isLocked() && closer.getState() == Thread.State.BLOCKED);
                stripe0.lock().unlock(); // the purger goes on: registry lock, adopt, releaseSlab, page lock
                boolean purgerQueued = await(pageLock::hasQueuedThreads);
                assumeThat(closerInside && purgerQueued).as("close holds the page lock, the purger waits for it")
                        .isTrue();
            }
        } finally {
            if (stripe0.lock().isHeldByCurrentThread()) stripe0.lock().unlock();
        }
        closer.join(10_000);
        assertThat(closer.isAlive()).as("close() still running after 10 s: %s", Arrays.toString(closer.getStackTrace()))
                .isFalse();
    }

    private static boolean purgerIn(String method) {
        for (var e : Thread.getAllStackTraces().entrySet()) {
            if (!e.getKey().getName().equals("malloc4j-purger")) continue;
            for (StackTraceElement f : e.getValue()) if (f.getMethodName().equals(method)) return true;
        }
        return false;
    }
}
