package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.SynchronousQueue;
import org.junit.jupiter.api.Test;

/**
 * A segment passed to {@code reallocate} stays reachable until the call is done. Compiled, the call's last use of its
 * parameter came before the block moved, and a collection then ran the segment's cleanup, which reclaimed the block
 * under the call: {@code reallocate} of a live segment threw "already freed" and its block was reported as a leak
 * (5 times in 3 million moves of a 100-byte block to 5,000 bytes with garbage alongside, a review 2026-12-07). Here a collection runs at a fixed point inside the call, the
 * page layer's clock read as the new block is allocated, once the call is compiled: the calling thread hands over to
 * a helper there at every call (the same compiled path armed or not), which, armed, collects until the cleanups
 * enqueued by then have run.
 */
class SegmentInUseIsNoLeakTest {
    private static final int WARM_UP = 40_000, ARMED = 12;

    private final List<MemorySegment> controls = new ArrayList<>();
    private final SynchronousQueue<Boolean> go = new SynchronousQueue<>(), done = new SynchronousQueue<>();
    private volatile Thread caller;
    private volatile boolean armed;

    @Test
    void aSegmentBeingReallocatedIsNotReclaimedUnderTheCall() throws Exception {
        Heap.Builder b = Heap.builder().trackSites(1).reclaimLeaks(true).jmx(false).clock(() -> {
            if (Thread.currentThread() == caller) handOver();
            return System.nanoTime();
        });
        Thread helper = null;
        try (Heap heap = b.build()) {
            helper = Thread.ofPlatform().daemon().start(() -> serve(heap));
            controls.add(heap.allocate(64)); // a first reclaim, so that the cleaner's thread has its cache
            dropControlAndCollect(heap);
            caller = Thread.currentThread();
            for (int i = 0; i < WARM_UP; i++) cycle(heap); // compiled by now: no frame holds the segment past its use
            for (int i = 0; i < ARMED; i++) {
                controls.add(heap.allocate(64));
                controls.add(heap.allocate(64));
                armed = true;
                cycle(heap); // unfixed: InvalidFreeException, the moved block "already freed" (reclaimed)
                assertThat(heap.stats().liveBlocks()).as("armed cycle %d", i).isEqualTo(controls.size());
            }
            caller = null;
        } finally {
            if (helper != null) helper.interrupt();
        }
    }

    /** A block of 100 bytes moved by {@code reallocate} to a page run, whose allocation reads the clock. */
    private static void cycle(Heap heap) {
        MemorySegment s = heap.allocate(100);
        s.set(ValueLayout.JAVA_BYTE, 99, (byte) 7);
        MemorySegment t = heap.reallocate(s, 40_000);
        if (t.get(ValueLayout.JAVA_BYTE, 99) != 7) throw new AssertionError("contents lost");
        heap.free(t);
    }

    private void handOver() {
        try {
            go.put(Boolean.TRUE);
            done.take();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** The helper: at each hand-over, armed, drops two controls in turn and collects until each is reclaimed. */
    private void serve(Heap heap) {
        try {
            while (true) {
                go.take();
                if (armed) {
                    armed = false;
                    // The cleanups enqueued by the first collection have all run once the second control's has
                    dropControlAndCollect(heap);
                    dropControlAndCollect(heap);
                }
                done.put(Boolean.TRUE);
            }
        } catch (InterruptedException e) {
            // the test is over
        }
    }

    private void dropControlAndCollect(Heap heap) {
        long control = controls.removeLast().address();
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!reclaimed(heap, control) && System.nanoTime() < deadline) {
            System.gc();
            Thread.yield();
        }
        if (!reclaimed(heap, control)) throw new AssertionError("control 0x" + Long.toHexString(control) + " not reclaimed");
    }

    /** @return whether the block at {@code address} was freed (by the cleaner: the program never frees it) */
    private static boolean reclaimed(Heap heap, long address) {
        try {
            heap.usableSize(address);
            return false;
        } catch (InvalidFreeException e) {
            return true;
        }
    }
}
