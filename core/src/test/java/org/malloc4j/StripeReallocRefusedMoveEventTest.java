package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;

/**
 * A realloc whose move to a smaller class is refused stays in place, and its refusal is no exhaustion: JFR is not told
 * (ReallocRefusedMoveEventTest). Virtual threads share a cache (a stripe), and the mark that kept the refusal from JFR
 * was the stripe's: a second virtual thread of the stripe starting such a realloc overwrote the first one's mark, and
 * the first one's refusal, on a realloc that then succeeded in place, was told to JFR as org.malloc4j.HeapExhausted.
 * Here virtual threads of one stripe shrink blocks of a heap at its limit over and over: every realloc stays in
 * place, so no event may come (before the fix, 30 to 110 spurious events a run). The mark is now per thread, so per
 * call, for a stripe's virtual threads.
 */
class StripeReallocRefusedMoveEventTest {
    private static final long LIMIT = 4L << 20;
    private static final int THREADS = 16, ROUNDS = 2000;

    @Test
    void refusedMovesOfOneStripeAreNoExhaustion() throws Exception {
        String name = "stripe-realloc-quiet";
        Path file = Files.createTempFile("malloc4j-stripe-realloc", ".jfr");
        try (Heap h = Heap.builder().name(name).limit(LIMIT).decay(Duration.ofHours(1)).spareBytes(0).jmx(false)
                .build()) {
            long[] blocks = new long[THREADS];
            for (int i = 0; i < THREADS; i++) blocks[i] = h.malloc(20_000);
            List<Long> filler = ShrinkingReallocUnderTheLimitTest.fillToTheLimit(h);
            Object caches = Internals.field(Internals.field(h, Heap.class, "core"),
                    org.malloc4j.internal.HeapCore.class, "caches");
            int stripes = (int) caches.getClass().getMethod("stripeCount").invoke(caches);
            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            List<Thread> threads = new ArrayList<>();
            long stripe = -1;
            while (threads.size() < THREADS) {
                long p = blocks[threads.size()];
                Thread t = Thread.ofVirtual().unstarted(() -> {
                    try {
                        for (int r = 0; r < ROUNDS; r++) {
                            // A move to the class of 5000 bytes, refused: the block stays, at the new size
                            if (h.realloc(p, 5_000 - r % 2) != p) failures.add("moved");
                        }
                    } catch (Throwable e) { // HeapExhaustedException is an Error: kept from the thread's end
                        failures.add(e.toString());
                    }
                });
                long k = t.threadId() & (stripes - 1);
                if (stripe < 0) stripe = k;
                if (k == stripe) threads.add(t);
            }
            try (Recording r = new Recording()) {
                r.enable("org.malloc4j.HeapExhausted");
                r.start();
                threads.forEach(Thread::start);
                for (Thread t : threads) assertThat(t.join(Duration.ofMinutes(2))).isTrue();
                r.stop();
                r.dump(file);
            }
            assertThat(failures).isEmpty();
            assertThat(RecordingFile.readAllEvents(file))
                    .filteredOn(e -> e.getEventType().getName().equals("org.malloc4j.HeapExhausted")
                            && name.equals(e.getString("heap")))
                    .isEmpty();
            for (long p : blocks) h.free(p);
            for (long b : filler) h.free(b);
            assertThat(h.stats().liveBytes()).isZero();
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
