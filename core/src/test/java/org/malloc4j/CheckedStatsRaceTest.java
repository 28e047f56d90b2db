package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * stats() is "safe to call from any thread at any time". In CHECKED mode a CHECKED malloc takes the red zones out of
 * the thread's live count before the engine counts the block, so stats() read in between sees live bytes below zero
 * (and freeBytes above committedBytes), even with one thread allocating and nothing else live.
 */
class CheckedStatsRaceTest {
    @Test
    void liveBytesNeverNegativeAndFreeBytesNeverExceedCommitted() throws Exception {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(0).jmx(false).build()) {
            AtomicBoolean stop = new AtomicBoolean();
            Thread t = new Thread(() -> {
                while (!stop.get()) heap.free(heap.malloc(16));
            });
            t.start();
            long minLive = Long.MAX_VALUE;
            long worstFreeOverCommitted = Long.MIN_VALUE;
            try {
                for (int i = 0; i < 500_000 && minLive >= 0; i++) {
                    HeapStats s = heap.countersForTests();
                    minLive = Math.min(minLive, s.liveBytes());
                    worstFreeOverCommitted = Math.max(worstFreeOverCommitted, s.freeBytes() - s.committedBytes());
                }
            } finally {
                stop.set(true);
                t.join();
            }
            assertThat(minLive).as("lowest liveBytes seen").isGreaterThanOrEqualTo(0);
            assertThat(worstFreeOverCommitted).as("freeBytes - committedBytes").isLessThanOrEqualTo(0);
        }
    }
}
