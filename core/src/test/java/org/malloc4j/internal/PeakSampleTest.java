package org.malloc4j.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The sampled peak only rises, whatever threads sample at once: once {@code raise(x)} returns, the peak is at least
 * {@code x}. With a plain "read, compare, write" two threads' samples could land in the wrong order (found by reading,
 * in a review: the peak read by stats() could go down between two calls). The stress below, two threads raising the
 * samples of one rising counter, did not catch that old code in six runs on the 2-core VM (its window is a few
 * instructions wide); it stands for the contract, with the lower sample test beside it.
 */
class PeakSampleTest {
    @Test
    void aRaiseIsNeverUndoneByAnotherThreadsLowerSample() throws Exception {
        PeakSample peak = new PeakSample();
        int rounds = 500_000;
        AtomicLong undone = new AtomicLong(-1), next = new AtomicLong();
        CountDownLatch start = new CountDownLatch(1);
        Thread[] threads = new Thread[2];
        for (int t = 0; t < 2; t++) {
            threads[t] = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (long i = 0; i < rounds && undone.get() < 0; i++) {
                    long sample = next.incrementAndGet(); // the two threads' samples interleave, rising
                    peak.raise(sample);
                    if (peak.value() < sample) undone.compareAndSet(-1, sample);
                }
            });
            threads[t].start();
        }
        start.countDown();
        for (Thread t : threads) t.join();
        assertThat(undone.get()).as("a sample the peak fell below after its raise").isEqualTo(-1);
        assertThat(peak.value()).isEqualTo(next.get());
    }

    @Test
    void aLowerSampleLeavesThePeak() {
        PeakSample peak = new PeakSample();
        peak.raise(4096);
        peak.raise(16);
        peak.raise(-1);
        assertThat(peak.value()).isEqualTo(4096);
        peak.raise(4097);
        assertThat(peak.value()).isEqualTo(4097);
    }
}
