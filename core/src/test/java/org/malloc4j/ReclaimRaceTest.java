package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.malloc4j.Internals.await;
import static org.malloc4j.Internals.field;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;

/**
 * The FAST reclaim of a leaked segment looks at the block's record under the close gate, then frees the block by its
 * address: the look and the free are two steps, so a program that frees the block through its raw address and is
 * handed the address again between them loses its new block (ReclaimAfterReuseTest covers only the wait before the
 * look). The window is held open by a helper thread holding the lock the cleaner's thread takes inside that free (its
 * first free in this heap registers a thread cache), as ReclaimAfterReuseTest holds the close gate.
 */
class ReclaimRaceTest {
    @Test
    void aReclaimPastItsLookDoesNotFreeANewBlockAtTheLeakedBlocksAddress() throws Exception {
        try (Heap heap = Heap.builder().trackSites(1).reclaimLeaks(true).jmx(false).build()) {
            ReentrantLock registry = (ReentrantLock) field(field(field(heap, Heap.class, "core"),
                    Class.forName("org.malloc4j.internal.HeapCore"), "caches"),
                    Class.forName("org.malloc4j.internal.small.ThreadCaches"), "registryLock");
            ReentrantLock gate = (ReentrantLock) field(heap, Heap.class, "closeGate");
            long a = allocateAndDrop(heap);
            Thread main = Thread.currentThread();
            CountDownLatch held = new CountDownLatch(1), release = new CountDownLatch(1);
            AtomicBoolean programDone = new AtomicBoolean();
            Thread holder = Thread.ofPlatform().start(() -> {
                registry.lock();
                try {
                    held.countDown();
                    // until the program's free and malloc are done, or the program waits inside its free
                    long deadline = System.nanoTime() + 20_000_000_000L;
                    while (release.getCount() > 0 && !programDone.get() && System.nanoTime() < deadline
                            && main.getState() != Thread.State.WAITING) {
                        Thread.onSpinWait();
                    }
                } finally {
                    registry.unlock();
                }
            });
            assertThat(held.await(20, TimeUnit.SECONDS)).isTrue();
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (!registry.hasQueuedThreads() && System.nanoTime() < deadline) System.gc();
            boolean inWindow = registry.hasQueuedThreads() && gate.isLocked();
            long b = 0;
            if (inWindow) {
                try {
                    heap.free(a); // the program frees through the raw address...
                    b = heap.malloc(64); // ...and is handed the address again
                } catch (InvalidFreeException reclaimedFirst) {
                    // the reclaim won: the program's free of the block it reclaimed is a double free
                }
            }
            programDone.set(true);
            release.countDown();
            holder.join();
            assumeThat(inWindow).as("the cleaner is inside its free, past its look").isTrue();
            assumeThat(b == 0 || b == a).as("the address came back").isTrue();
            deadline = System.nanoTime() + 20_000_000_000L;
            while ((gate.isLocked() || gate.hasQueuedThreads()) && System.nanoTime() < deadline) Thread.onSpinWait();
            assertThat(heap.stats().liveBlocks()).as("blocks the program holds (its new block at 0x%x: %s)", a,
                    b != 0).isEqualTo(b != 0 ? 1 : 0);
            if (b != 0) heap.free(b);
        }
    }


    private static long allocateAndDrop(Heap heap) {
        MemorySegment s = heap.allocate(64);
        s.fill((byte) 1);
        return s.address();
    }
}
