package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.malloc4j.Internals.await;
import static org.malloc4j.Internals.field;

import java.lang.reflect.Method;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;
import org.malloc4j.internal.small.LocalHeap;

/**
 * stats() on a heap where no program thread runs, while the purger's collection of a virtual threads' stripe is stopped
 * half-way: the collection took the stripe's whole pending stack, collected its first slab and waits for the page lock
 * to give that emptied slab back, the second slab's slack (what the freeing thread did not count) neither on the stack
 * nor in the stripe's counter yet. stats() waited 200 ms for such a collection and then summed racily: on a loaded
 * machine, with the purger descheduled inside one, VirtualThreadStressTest read a quiescent heap's live bytes 3,447
 * bytes low. Here the test holds the page lock, so that the collection stays stopped until stats() either returns or
 * parks waiting for it; a reader that gave up returned the live bytes short of the second slab's slack.
 */
class StatsWhileAStripeCollectionStallsTest {
    @Test
    void liveBytesAreExactWhileTheCollectionOfAStripeIsStopped() throws Exception {
        // No spare: a slab the collection empties goes back to the page layer inside the collection
        try (Heap heap = Heap.builder().spareBytes(0).jmx(false).build()) {
            heap.free(heap.malloc(16)); // this thread's cache, registered before the page lock is held
            Object core = field(heap, Heap.class, "core");
            Class<?> coreClass = Class.forName("org.malloc4j.internal.HeapCore");
            ReentrantLock pageLock = (ReentrantLock) Class.forName("org.malloc4j.internal.page.PageHeap")
                    .getMethod("lock").invoke(field(core, coreClass, "pages"));
            Object caches = field(core, coreClass, "caches");
            LocalHeap[] stripes = (LocalHeap[]) field(caches, caches.getClass(), "stripes");
            Method purgerPass = coreClass.getDeclaredMethod("reapDeadCaches");
            purgerPass.setAccessible(true);

            // Three medium blocks (one slab each) of a virtual thread's stripe: two to free, one that stays live
            long[] blocks = new long[3];
            Thread vt = Thread.ofVirtual().start(() -> {
                blocks[0] = heap.malloc(40_001);
                blocks[1] = heap.malloc(50_001);
                blocks[2] = heap.malloc(100_000);
            });
            vt.join();
            LocalHeap stripe = stripes[(int) vt.threadId() & (stripes.length - 1)];
            assertThat(heap.stats().liveBytes()).isEqualTo(190_002);

            AtomicLong read = new AtomicLong(-1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread collector, reader;
            boolean stopped, waited;
            pageLock.lock();
            try {
                // Freed by this thread, 50,001 first: each slab goes on the stripe's pending stack, 40,001 on top. The
                // stripe's lock keeps the purger from collecting between the two frees
                stripe.lock().lock();
                try {
                    heap.free(blocks[1]);
                    heap.free(blocks[0]);
                } finally {
                    stripe.lock().unlock();
                }
                // A purger pass (this one, or the purger thread's own) collects the stripe and stops in the release
                // of the 40,001-byte block's slab, the 50,001-byte block's slab taken off the stack, not collected
                collector = Thread.ofPlatform().start(() -> {
                    try {
                        purgerPass.invoke(core);
                    } catch (ReflectiveOperationException e) {
                        failure.set(e);
                    }
                });
                stopped = await(() -> collections(stripe) % 2 == 1 && pageLock.hasQueuedThreads());
                reader = Thread.ofPlatform().start(() -> read.set(heap.stats().liveBytes()));
                // Until stats() returned, parked on the page lock after its sum, or parked waiting for the collection
                waited = await(() -> !reader.isAlive() || pageLock.hasQueuedThread(reader)
                        || LockSupport.getBlocker(reader) == stripe);
            } finally {
                pageLock.unlock();
            }
            reader.join();
            collector.join();
            assertThat(failure.get()).isNull();
            assertThat(stopped).as("the stripe's collection stopped on the page lock").isTrue();
            assertThat(waited).as("stats() returned, or waited for the page lock or the collection").isTrue();
            assertThat(read.get()).as("live bytes read while the collection was stopped").isEqualTo(100_000);
            assertThat(heap.stats().liveBytes()).as("after it").isEqualTo(100_000);
            heap.free(blocks[2]);
        }
    }

    private static int collections(LocalHeap stripe) {
        try {
            return (int) field(stripe, LocalHeap.class, "collections");
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }
}
