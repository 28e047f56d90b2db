package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Issue #4: with the default decay, a program in a steady state does not churn system calls. A fixed set of live
 * blocks of every kind (small, medium, page runs) is replaced at random, the heap's clock moving 100 us an operation
 * (a manual clock: the machine's speed does not matter), for two minutes of that clock after one of warm-up: the
 * purges counted in the stats then stay a handful, not one every decay time per run, let alone one per operation.
 */
class SteadyStateDoesNotChurnPurgesTest {
    private static final long KiB = 1024;

    @Test
    void aSteadyLoopAtTheDefaultDecayMakesAlmostNoSystemCalls() {
        ManualClock clock = new ManualClock();
        try (Heap heap = Heap.builder().clock(clock).jmx(false).build()) { // the default decay: one second
            SplittableRandom random = new SplittableRandom(45);
            long[] live = new long[400];
            long[] sizes = {16, 48, 200, 1000, 4 * KiB, 40 * KiB, 100 * KiB, 300 * KiB, 700 * KiB, 2048 * KiB};
            for (int i = 0; i < live.length; i++) live[i] = heap.malloc(sizes[i % sizes.length]);
            run(heap, clock, random, live, sizes, 10_000); // warm-up: one second of the heap's clock
            long before = heap.stats().purgeCount();
            run(heap, clock, random, live, sizes, 1_200_000); // two minutes
            long purges = heap.stats().purgeCount() - before;
            assertThat(purges).as("purges over 1.2 million operations in a steady state").isLessThan(100);
            for (long p : live) heap.free(p);
        }
    }

    private static void run(Heap heap, ManualClock clock, SplittableRandom random, long[] live, long[] sizes, int ops) {
        for (int op = 0; op < ops; op++) {
            int slot = random.nextInt(live.length);
            heap.free(live[slot]);
            long size = sizes[random.nextInt(sizes.length)];
            live[slot] = heap.malloc(size + random.nextLong(size / 2 + 1)); // sizes vary: runs split and merge
            clock.advance(Duration.ofNanos(100_000));
        }
    }
}
