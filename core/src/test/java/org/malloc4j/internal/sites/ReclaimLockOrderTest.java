package org.malloc4j.internal.sites;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.malloc4j.Internals.await;
import static org.malloc4j.Internals.field;

import java.lang.foreign.MemorySegment;
import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;
import org.malloc4j.Heap;

/**
 * The leak detector's reclaim (HeapCore.freeIfRecorded) runs the block's free under the write lock of the record's
 * LiveRecords stripe (SiteRecorder.forgetWhile). That free takes the registry lock (the cleaner thread's first free in
 * a heap registers its cache) and the page lock (a slab given back). Every other path takes them the other way round:
 * freeLarge of a sampled block holds the page lock while it forgets the record (page lock, then stripe), an adoption
 * holds the registry lock while it gives slabs back (registry, then page lock). Three threads deadlock: the cleaner
 * (stripe, waits for registry), an adopter (registry, waits for page lock), a free of a large sampled block (page
 * lock, waits for the stripe). The adopter here is trim(); its registry lock is taken early by the test (as
 * ReclaimRaceTest does) so that the cleaner waits inside the reclaim. Run alone: on failure the shared Cleaner thread
 * stays deadlocked.
 */
class ReclaimLockOrderTest {
    private static final long KiB = 1024;

    @Test
    void aReclaimDoesNotDeadlockWithALargeFreeAndAnAdoption() throws Exception {
        Heap heap = Heap.builder().trackSites(1).reclaimLeaks(true).jmx(false).build();
        heap.free(heap.malloc(64));
        Object core = field(heap, Heap.class, "core");
        Class<?> coreClass = Class.forName("org.malloc4j.internal.HeapCore");
        ReentrantLock pageLock = (ReentrantLock) Class.forName("org.malloc4j.internal.page.PageHeap")
                .getMethod("lock").invoke(field(core, coreClass, "pages"));
        Object caches = field(core, coreClass, "caches");
        ReentrantLock registry = (ReentrantLock) field(caches, caches.getClass(), "registryLock");

        CountDownLatch allocated = new CountDownLatch(1), held = new CountDownLatch(1), trim = new CountDownLatch(1);
        // A worker that ends with empty slabs in its cache; it ends once the registry lock is held, so that only the
        // adopter's trim adopts it
        Thread worker = Thread.ofPlatform().start(() -> {
            long[] blocks = new long[200];
            for (int i = 0; i < blocks.length; i++) blocks[i] = heap.malloc(100);
            for (long b : blocks) heap.free(b);
            allocated.countDown();
            try {
                held.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertThat(allocated.await(20, TimeUnit.SECONDS)).isTrue();
        Thread adopter = Thread.ofPlatform().daemon().start(() -> {
            registry.lock();
            try {
                held.countDown();
                trim.await();
                heap.trim(); // adopts the dead worker's cache: gives its empty slabs back under the page lock
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                registry.unlock();
            }
        });
        assertThat(held.await(20, TimeUnit.SECONDS)).isTrue();
        worker.join();

        MemorySegment leaked = heap.allocate(64);
        int stripe = LiveRecords.stripeIndex(LiveRecords.hash(leaked.address()));
        List<Long> large = new ArrayList<>();
        long sameStripe = 0;
        for (int i = 0; i < 2000 && sameStripe == 0; i++) { // a sampled large block whose record shares the stripe
            long b = heap.malloc(300 * KiB);
            large.add(b);
            if (LiveRecords.stripeIndex(LiveRecords.hash(b)) == stripe) sameStripe = b;
        }
        Reference.reachabilityFence(leaked); // not collected before the large blocks are taken
        assumeThat(sameStripe).isNotZero();
        leaked = null; // the program drops the segment: the cleaner reclaims the block
        boolean cleanerInside = await(() -> {
            System.gc();
            return registry.hasQueuedThreads(); // the cleaner's first free in this heap registers its cache
        });
        assumeThat(cleanerInside).as("the cleaner waits inside the reclaim").isTrue();

        long toFree = sameStripe;
        Thread freer = Thread.ofPlatform().daemon().start(() -> heap.free(toFree));
        assumeThat(await(() -> pageLock.isLocked() && freer.getState() == Thread.State.WAITING)
                || !freer.isAlive()).isTrue();
        trim.countDown();
        freer.join(10_000);
        assertThat(freer.isAlive()).as("free of a large sampled block after 10 s: %s",
                Arrays.toString(freer.getStackTrace())).isFalse();
        adopter.join(10_000);
        large.remove(toFree);
        for (long b : large) heap.free(b);
        heap.close();
    }
}
