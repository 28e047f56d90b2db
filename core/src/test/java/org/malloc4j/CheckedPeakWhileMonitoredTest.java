package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * CHECKED: liveBytes and its peak are the program's, also while a monitor reads them (as JMX or the JFR periodic
 * event does). Found by a review on 2026-12-07: a block leaving quarantine was put back into the live count before the
 * engine freed it, and a stats() in between read it as live again, kept as the peak for good: 8,323,120 bytes at a
 * peak of 4 MiB and 16 bytes, in every run of three.
 */
class CheckedPeakWhileMonitoredTest {
    @Test
    void aMonitorNeverSeesAPeakTheProgramNeverHad() throws Exception {
        long big = 4L << 20, piece = 64L << 10;
        int pieces = (int) (big / piece);
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(big + (32 << 10))
                .decay(Duration.ZERO).jmx(false).build()) {
            long mine = heap.malloc(16); // a second user: the peak is the sampled one
            AtomicBoolean stop = new AtomicBoolean();
            Thread monitor = Thread.ofPlatform().start(() -> {
                while (!stop.get()) heap.stats(); // what JMX or the JFR periodic event does
            });
            Thread worker = Thread.ofPlatform().start(() -> {
                long[] x = new long[pieces];
                for (int round = 0; round < 150; round++) {
                    heap.free(heap.malloc(big)); // waits in quarantine
                    for (int i = 0; i < pieces; i++) x[i] = heap.malloc(piece); // live back to 4 MiB
                    for (int i = 0; i < pieces; i++) heap.free(x[i]); // the first free pushes the 4 MiB block out
                }
            });
            worker.join();
            stop.set(true);
            monitor.join();
            HeapStats s = heap.stats();
            // The program never held more than 4 MiB + 16 bytes live
            assertThat(s.peakLiveBytes()).as("%s", s).isLessThanOrEqualTo(big + 16);
            heap.free(mine);
        }
    }
}
