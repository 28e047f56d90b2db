package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A large block that takes clean pages gives back small dirty runs only when it takes committed memory past its peak
 * (by more than a 64th): a program whose committed memory stays at its peak must not purge on every large block. It
 * did: a random workload of 4,000 slots, 1% of its blocks 256-296 KiB, purged 659 times in 400,000 operations, and
 * the purged runs, clean, no longer merged with the dirty runs freed beside them, so that ever more large blocks took
 * clean pages: 59 MB committed, 50 MB of it free and dirty, for a peak of 12 MB live; with 5% of its blocks that
 * large, 446 MB committed for a peak of 38 MB live (now 53 MB). No decay here (an hour), so that nothing but the
 * allocation path purges and the figures are the same on every run.
 */
class LargeBlocksAtThePeakDoNotPurgeOverAndOverTest {

    @ParameterizedTest
    @ValueSource(doubles = {0.01, 0.05})
    void aRandomWorkloadAtItsPeakKeepsCommittedMemoryNearItsLiveMemory(double largeShare) {
        try (Heap h = Heap.builder().decay(Duration.ofHours(1)).jmx(false).build()) {
            SplittableRandom r = new SplittableRandom(42);
            long[] blocks = new long[4000];
            for (int i = 0; i < 400_000; i++) {
                int k = r.nextInt(blocks.length);
                if (blocks[k] != 0) {
                    h.free(blocks[k]);
                    blocks[k] = 0;
                } else {
                    double u = r.nextDouble();
                    long size = u < largeShare ? 262_144 + r.nextInt(40_000) : u < 0.2 ? 256 + r.nextInt(8000)
                            : 1 + r.nextInt(256);
                    blocks[k] = h.malloc(size);
                }
            }
            HeapStats s = h.stats();
            assertThat(s.purgeCount()).as("purges").isLessThan(300);
            assertThat(s.peakCommittedBytes()).as("peak committed against peak live (%s)", s)
                    .isLessThan(3 * s.peakLiveBytes());
            for (long b : blocks) h.free(b);
            assertThat(h.stats().liveBytes()).isZero();
        }
    }
}
