package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * The quarantine's capacity bounds what it holds while the threads that freed into it sit idle. Until 2026-12-07 a
 * thread that joined could overdraw the capacity while the idle rings before it kept the shares they had: eight
 * threads that freed into a 64 KiB quarantine one after another, then waited, left 128 KiB in it (twice the
 * capacity). An idle ring's blocks are now taken back by the rings that need the room, oldest first.
 */
class CheckedQuarantineIdleThreadsTest {
    /** Engine bytes held by blocks the engine counts live: with every block freed, the quarantine's. */
    private static long engineLiveBytes(Heap heap) {
        long sum = 0;
        for (HeapSnapshot.Run r : heap.snapshot().runs()) {
            if (r.kind() == HeapSnapshot.Kind.BLOCK) sum += r.bytes();
            else if (r.kind() == HeapSnapshot.Kind.SLAB) sum += r.blockSize() * r.liveBlocks();
        }
        return sum;
    }

    @Test
    void threadsThatFreedAndWentIdleLeaveNoMoreThanTheCapacityInQuarantine() throws Exception {
        long capacity = 64 << 10;
        int threads = 8;
        // 4064 bytes and 32 of red zones: 4 KiB charged, and 4 KiB of the engine's, so engine bytes read the charge
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(capacity).jmx(false).build()) {
            CountDownLatch leave = new CountDownLatch(1);
            List<Thread> started = new ArrayList<>();
            long most = 0;
            try {
                for (int t = 0; t < threads; t++) {
                    CountDownLatch idle = new CountDownLatch(1);
                    started.add(Thread.ofPlatform().start(() -> {
                        for (int i = 0; i < 64; i++) heap.free(heap.malloc(4064));
                        idle.countDown();
                        await(leave);
                    }));
                    idle.await(); // this thread freed and now waits: the next one starts
                    assertThat(heap.stats().liveBlocks()).isZero();
                    most = Math.max(most, engineLiveBytes(heap));
                }
            } finally {
                leave.countDown();
                for (Thread t : started) t.join();
            }
            assertThat(most).as("bytes in a quarantine of %d while the threads that freed wait", capacity)
                    .isLessThanOrEqualTo(capacity);
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
