package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A thread cache's medium extra (spares kept past its share of the budget, LocalHeap.mediumExtra) is room only that
 * cache's holder can give back: under a limit, another thread's request must still find the room that the spare budget
 * and the extra's bound (a sixteenth of the limit) leave it. Before the bound, a cycling thread idle under a 4 MiB limit
 * kept 2 MiB, and another thread's 3 MiB was refused with nothing live (a review, 2026-12-07).
 */
class MediumExtraAtTheLimitTest {
    private static final long KiB = 1024, MiB = 1024 * KiB, BLOCK = 128 * KiB;
    private static final int HELD = 16;

    /** {@code cycles} times: 16 blocks of 128 KiB (2 MiB, four times the default budget) allocated, then freed. */
    private static void cycle(Heap heap, int cycles) {
        long[] held = new long[HELD];
        for (int c = 0; c < cycles; c++) {
            for (int i = 0; i < held.length; i++) {
                held[i] = heap.malloc(BLOCK);
                MemorySegment.ofAddress(held[i]).reinterpret(BLOCK).set(ValueLayout.JAVA_LONG, 0, i);
            }
            for (int i = held.length - 1; i >= 0; i--) heap.free(held[i]);
        }
    }

    @Test
    void theCyclingThreadItselfFindsTheRoomItsSparesHold() {
        try (Heap heap = Heap.builder().limit(4 * MiB).jmx(false).build()) {
            cycle(heap, 10);
            long p = heap.malloc(3 * MiB + 512 * KiB);
            heap.free(p);
            assertThat(heap.verify()).isEmpty();
        }
    }

    @Test
    void anotherThreadFindsTheRoomBeyondTheCyclingThreadsBudget() throws Exception {
        try (Heap heap = Heap.builder().limit(4 * MiB).jmx(false).build()) {
            CountDownLatch cycled = new CountDownLatch(1), end = new CountDownLatch(1);
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    cycle(heap, 10);
                } catch (Throwable e) {
                    failed.set(e);
                }
                cycled.countDown();
                try {
                    end.await(); // alive and idle: its cache keeps its spares
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            t.start();
            try {
                cycled.await();
                assertThat(failed.get()).isNull();
                HeapStats s = heap.stats();
                assertThat(s.liveBytes()).isZero();
                // 3 MiB + the cycling thread's 512 KiB budget + 256 KiB of extra fit the limit
                assertThatCode(() -> heap.free(heap.malloc(3 * MiB)))
                        .as("3 MiB under a 4 MiB limit, committed " + s.committedBytes() + " and nothing live")
                        .doesNotThrowAnyException();
            } finally {
                end.countDown();
                t.join();
            }
            assertThat(heap.verify()).isEmpty();
        }
    }
}
