package org.malloc4j.internal.small;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A cache's live bytes read while its holder collects remote frees: the holder takes its whole pending stack at once,
 * and until it has collected a slab, that slab's slack (what the freeing thread did not count) is neither on the stack
 * nor back in the holder's counter. The purger collects a stripe that way while no operation is in flight, and CI saw
 * two stats() calls around a read-only call differ by 6,273 live bytes; {@link LocalHeap#liveBytes} now waits for
 * the collection. Here the collection stops inside its first slab's release, with the second slab taken off the
 * stack and not yet collected, until a reader is inside {@code liveBytes}.
 */
class LiveBytesDuringCollectionTest {
    private static final int CLASS_32 = SizeClasses.classOf(32);
    private static final int CLASS_64 = SizeClasses.classOf(64);

    /** A source that keeps no spare and whose release of a slab waits for {@code go}. */
    private static final class StallingSource implements SlabSource {
        final FakeSlabSource slabs = new FakeSlabSource();
        final CountDownLatch inRelease = new CountDownLatch(1), go = new CountDownLatch(1);

        @Override
        public Slab newSlab(int sizeClass, LocalHeap owner, long request) {
            return slabs.newSlab(sizeClass, owner, request);
        }

        @Override
        public void releaseSlab(Slab slab) {
            inRelease.countDown();
            Latches.await(go);
        }

        @Override
        public void onSlowPath(LocalHeap cache) {}

        @Override
        public long spareBudget() {
            return 0;
        }
    }

    @Test
    void aReaderWaitsForACollectionInProgress() throws Exception {
        StallingSource source = new StallingSource();
        LocalHeap[] owner = new LocalHeap[1];
        long[] slack = new long[1];
        CountDownLatch ready = new CountDownLatch(1), collect = new CountDownLatch(1);
        LocalHeap freer = LocalHeap.exclusive(new Thread(() -> {}), source);
        Thread holder = new Thread(() -> {
            LocalHeap cache = LocalHeap.exclusive(Thread.currentThread(), source);
            owner[0] = cache;
            // Slab B (class 64): ten blocks of 40 bytes, 24 bytes of slack each
            long[] b = new long[10];
            for (int i = 0; i < b.length; i++) b[i] = cache.allocate(CLASS_64, 40);
            // Slab A (class 32): filled, then left behind by the next malloc (not current: it is released when empty)
            List<Long> a = source.slabs.fill(cache, CLASS_32, 32, source.slabs.slabs.size() + 1);
            cache.allocate(CLASS_32, 32);
            Slab slabB = source.slabs.slabs.get(0), slabA = source.slabs.slabs.get(1);
            // Freed by another thread: B is pushed first, A on top of it, so the holder collects A first
            for (long p : b) freer.freeRemote(slabB, slabB.indexOf(p));
            for (long p : a) freer.freeRemote(slabA, slabA.indexOf(p));
            slack[0] = 10 * 24;
            ready.countDown();
            Latches.await(collect);
            cache.drainPending(); // A emptied, released: stops in the source until the reader is in liveBytes
        }, "holder");
        holder.start();
        ready.await();
        long expected = owner[0].liveBytes() + freer.liveBytes();
        assertThat(owner[0].uncollectedSlack()).as("B's slack, owed before the collection").isEqualTo(slack[0]);

        collect.countDown();
        source.inRelease.await();
        AtomicLong read = new AtomicLong(-1);
        Thread reader = new Thread(() -> read.set(owner[0].liveBytes() + freer.liveBytes()), "reader");
        reader.start();
        while (reader.isAlive() && !inLiveBytes(reader)) Thread.onSpinWait();
        source.go.countDown();
        reader.join();
        holder.join();
        assertThat(read.get()).as("live bytes read during the collection").isEqualTo(expected);
        assertThat(owner[0].liveBytes() + freer.liveBytes()).as("after it").isEqualTo(expected);
    }

    private static boolean inLiveBytes(Thread t) {
        return Arrays.stream(t.getStackTrace()).anyMatch(f -> f.getMethodName().equals("liveBytes"));
    }
}
