package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A small or medium request that the heap's limit would refuse first takes back the stack blocks of ended threads, as
 * a page run's does (RefusalTakesBackStripesAndStacksTest). Only the page runs' refusal did: a thread that ran out of
 * slabs was refused its small blocks with ten ended threads' stacks (655 KiB) the rest of the heap's live bytes.
 */
class SmallRefusalTakesBackStacksTest {
    /** Ten platform threads push a frame each, all inside at once (ten blocks), and end. */
    private static void tenThreadsUsedTheirStacks(Heap heap) throws Exception {
        int threads = 10;
        CyclicBarrier allInside = new CyclicBarrier(threads);
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
    }

    /** Blocks of {@code size}, 500,000 bytes in all, on the calling thread; a refusal fails the test. */
    private static List<Long> mallocHalfTheLimit(Heap heap, long size) {
        List<Long> blocks = new ArrayList<>();
        try {
            for (long n = 0; n < 500_000; n += size) blocks.add(heap.malloc(size));
        } catch (HeapExhaustedException e) {
            throw new AssertionError("refused after " + blocks.size() + " blocks: " + e.getMessage());
        }
        return blocks;
    }

    @ParameterizedTest
    @CsvSource({"48, false, false", "3000, false, false", "100000, false, false", "48, false, true",
            "3000, false, true", "100000, false, true", "3000, true, false", "3000, true, true",
            "65552, false, false", "65552, false, true"}) // the stacks' own class: their frees leave it room
    void smallAndMediumBlocksAreServedWithTheRoomEndedThreadsStacksHeld(long size, boolean checked, boolean virtual)
            throws Exception {
        Heap.Builder b = Heap.builder().limit(1 << 20).jmx(false).failOnLeak(true);
        if (checked) b.mode(HeapMode.CHECKED).quarantine(0);
        try (Heap heap = b.build()) {
            heap.free(heap.malloc(16));
            tenThreadsUsedTheirStacks(heap);
            AtomicReference<List<Long>> blocks = new AtomicReference<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Runnable fill = () -> {
                try {
                    blocks.set(mallocHalfTheLimit(heap, size));
                } catch (Throwable e) {
                    failure.set(e);
                }
            };
            if (virtual) Thread.ofVirtual().start(fill).join(); // its stripe held through its slow path
            else fill.run();
            if (failure.get() != null) throw new AssertionError(failure.get());
            assertThat(heap.stats().liveBytes()).isEqualTo(blocks.get().size() * size);
            for (long p : blocks.get()) heap.free(p);
        }
    }
}
