package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A moving realloc (or reallocate) on a heap used by several threads: the heap's peak of live bytes is sampled there,
 * at other threads' slow paths and at every stats() call (a monitor's, JFR's periodic event), and a sample taken while
 * the realloc copies the bytes must not count the old block and the new one together: the program never had both.
 * The old block was out of the live count only while the new one was taken, then back in for the copy and the free,
 * so a sample during the copy (milliseconds for megabytes) raised the peak for good by the old block's size, above
 * anything the program held and above the peak of committed bytes.
 */
class ReallocPeakWhileSampledTest {
    private static final long S = 24L << 20; // under the 32 MiB release threshold: copied, not moved by its pages

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"FAST realloc", "CHECKED realloc", "FAST reallocate aligned"})
    void aSampleDuringTheCopyDoesNotCountBothBlocks(String how) throws Exception {
        HeapMode mode = how.startsWith("CHECKED") ? HeapMode.CHECKED : HeapMode.FAST;
        try (Heap h = Heap.builder().mode(mode).decay(Duration.ofHours(1)).quarantine(0).jmx(false).build()) {
            AtomicBoolean stop = new AtomicBoolean();
            CountDownLatch registered = new CountDownLatch(1);
            Thread sampler = Thread.ofPlatform().start(() -> {
                h.free(h.malloc(16)); // a second user of the heap: its peak is sampled from now on
                registered.countDown(); // its slab taken before the blocks below: they are laid out as they say
                while (!stop.get()) h.stats();
            });
            try {
                registered.await();
                for (int i = 0; i < 12; i++) {
                    long p = h.malloc(S);
                    long guard = h.malloc(S); // right after it: the block must move to grow
                    Blocks.fill(p, S, (byte) 0x37);
                    long q;
                    if (how.contains("reallocate")) {
                        MemorySegment s = h.reallocate(MemorySegment.ofAddress(p).reinterpret(S), S + 4096, 64);
                        q = s.address();
                    } else {
                        q = h.realloc(p, S + 4096);
                    }
                    assertThat(q).isNotEqualTo(p);
                    Blocks.check(q, S, S, (byte) 0x37);
                    h.free(q);
                    h.free(guard);
                }
            } finally {
                stop.set(true);
                sampler.join();
            }
            HeapStats s = h.stats();
            assertThat(s.liveBytes()).isZero();
            assertThat(s.peakLiveBytes()).as("%s: the most the program held is a block of %d and one of %d", how,
                    S, S + 4096).isLessThanOrEqualTo(2 * S + 4096);
        }
    }
}
