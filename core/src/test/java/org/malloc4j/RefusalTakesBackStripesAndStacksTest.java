package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A heap under a limit takes back the memory the program no longer holds before it refuses a request. The caches of
 * ended platform threads were adopted by a refusal (RefusalAdoptsEndedThreadsCachesTest), but not the stripes shared
 * by virtual threads, whose slabs kept the remote frees other threads left there, and their empty slabs, committed
 * until a virtual thread of that stripe, trim() or the purger came by; nor the stack blocks of ended threads, taken
 * back by trim() alone: "cannot allocate 900000 bytes: limit 1048576 bytes, ..., live 0 bytes".
 */
class RefusalTakesBackStripesAndStacksTest {
    /** A refusal as a test failure: the OutOfMemoryError it is must not reach the test runner's fork. */
    private static long mallocOrFail(Heap heap, long size) {
        try {
            return heap.malloc(size);
        } catch (HeapExhaustedException e) {
            throw new AssertionError("refused: " + e.getMessage());
        }
    }

    /** Blocks of {@code size}, {@code bytes} in all, allocated by a virtual thread that then ends. */
    private static List<Long> allocatedByAVirtualThread(Heap heap, long size, long bytes) throws InterruptedException {
        List<Long> blocks = new ArrayList<>();
        Thread.ofVirtual().start(() -> {
            for (long n = 0; n < bytes; n += size) blocks.add(heap.malloc(size));
        }).join();
        return blocks;
    }

    /** Virtual threads allocate blocks and free each other's; the main thread frees some: remote frees everywhere. */
    private static void virtualThreadsHandBlocksAround(Heap heap, long size) throws InterruptedException {
        List<Long> first = allocatedByAVirtualThread(heap, size, 150_000);
        List<Long> second = allocatedByAVirtualThread(heap, size, 150_000);
        Thread.ofVirtual().start(() -> first.forEach(heap::free)).join(); // another virtual thread frees them
        second.forEach(heap::free); // and this platform thread these
    }

    @ParameterizedTest
    @ValueSource(longs = {48, 3000, 100_000})
    void aPageRunIsServedWithTheRoomTheStripesHeld(long size) throws Exception {
        try (Heap heap = Heap.builder().limit(1 << 20).jmx(false).build()) {
            heap.free(heap.malloc(16));
            virtualThreadsHandBlocksAround(heap, size);
            long p = mallocOrFail(heap, 900_000);
            assertThat(heap.stats().liveBytes()).isEqualTo(900_000);
            heap.free(p);
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {48, 3000, 100_000})
    void smallBlocksAreServedWithTheRoomTheStripesHeld(long size) throws Exception {
        try (Heap heap = Heap.builder().limit(1 << 20).jmx(false).build()) {
            heap.free(heap.malloc(size));
            virtualThreadsHandBlocksAround(heap, 3000); // their slabs emptied in the stripes, kept as spares there
            List<Long> blocks = new ArrayList<>();
            for (long n = 0; n < 800_000; n += size) blocks.add(mallocOrFail(heap, size));
            assertThat(heap.stats().liveBytes()).isEqualTo(blocks.size() * size);
            for (long b : blocks) heap.free(b);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aPageRunIsServedWithTheRoomEndedThreadsStacksHeld(boolean checked) throws Exception {
        Heap.Builder b = Heap.builder().limit(1 << 20).jmx(false).failOnLeak(true);
        if (checked) b.mode(HeapMode.CHECKED).quarantine(0);
        try (Heap heap = b.build()) {
            heap.free(heap.malloc(16));
            int threads = 10;
            CyclicBarrier allInside = new CyclicBarrier(threads); // every stack holds its own block at once
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> started = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                started.add(Thread.ofPlatform().start(() -> {
                    try (StackFrame frame = heap.stack().push()) {
                        frame.allocate(1000);
                        allInside.await();
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            for (Thread t : started) t.join();
            assertThat(failure.get()).isNull();
            assertThat(heap.stats().liveBytes()).as("the stacks' blocks").isGreaterThan(threads * 65_536L);
            long p = mallocOrFail(heap, 600_000);
            assertThat(heap.stats().liveBytes()).isEqualTo(600_000);
            heap.free(p);
        }
    }
}
