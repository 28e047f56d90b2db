package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.lang.foreign.MemorySegment;
import java.lang.reflect.Field;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;

/**
 * A leaked segment's cleanup looks at the block's record, then waits for the close gate, then frees the block. A
 * program that freed the block through its raw address meanwhile and was handed the same address again must keep
 * its new block: the cleanup looks again under the gate. The gate is held here (by reflection) only to hold the
 * cleanup in that window. Found by a review on 2026-12-06: the new block was freed under the program. And again on
 * 2026-12-07 for a CHECKED heap without sites, whose cleanup had no record to look at: it now tells the block by its
 * header word (the generation in it), which a new block at the same address does not share.
 */
class ReclaimAfterReuseTest {
    @Test
    void aReclaimDoesNotFreeANewBlockAtTheLeakedBlocksAddress() throws Exception {
        reclaimAfterReuse(Heap.builder().trackSites(1));
    }

    @Test
    void aCheckedReclaimWithoutSitesDoesNotFreeANewBlockAtTheLeakedBlocksAddress() throws Exception {
        reclaimAfterReuse(Heap.builder().mode(HeapMode.CHECKED).quarantine(0)); // no quarantine: the address comes back
    }

    private static void reclaimAfterReuse(Heap.Builder builder) throws Exception {
        try (Heap heap = builder.reclaimLeaks(true).jmx(false).build()) {
            Field f = Heap.class.getDeclaredField("closeGate");
            f.setAccessible(true);
            ReentrantLock gate = (ReentrantLock) f.get(heap);
            long a = allocateAndDrop(heap);
            gate.lock();
            try {
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (!gate.hasQueuedThreads() && System.nanoTime() < deadline) System.gc();
                assumeThat(gate.hasQueuedThreads()).as("the cleaner reached the gate").isTrue();
                heap.free(a); // the program frees through the raw address...
                long b = heap.malloc(64); // ...and the address is handed out again
                assumeThat(b).isEqualTo(a);
            } finally {
                gate.unlock();
            }
            // The cleaner now passes the gate, and is done with the block once it has let go of it
            while (gate.hasQueuedThreads() || gate.isLocked()) Thread.onSpinWait();
            assertThat(heap.stats().liveBlocks()).as("the new block at 0x%x is still live", a).isEqualTo(1);
            heap.free(a);
        }
    }

    private static long allocateAndDrop(Heap heap) {
        MemorySegment s = heap.allocate(64);
        s.fill((byte) 1);
        return s.address();
    }
}
