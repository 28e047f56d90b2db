package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Medium blocks at the heap's limit, shrunk far below their class in place (their slab's {@code wideSlack}), grown
 * back, shrunk again, freed and allocated anew, each step on the block's owner or on another thread (platform or
 * virtual, whose stripe is shared): after every step the live bytes are the sum of the model's requested sizes, the
 * usable size holds the block, and at the end every committed byte is free and the heap verifies clean.
 */
class MediumShrinkFarModelTest {
    private static final long LIMIT = 4L << 20;

    @ParameterizedTest(name = "seed {0}, CHECKED {1}, virtual {2}, sites {3}")
    @CsvSource({"1, false, false, false", "2, false, true, false", "3, true, false, false", "4, true, true, false",
            "5, false, false, true", "6, true, false, true", "7, false, true, true"})
    void liveBytesStayExact(long seed, boolean checked, boolean virtual, boolean sites) throws Exception {
        Heap.Builder b = Heap.builder().limit(LIMIT).decay(Duration.ofHours(1)).spareBytes(0).jmx(false);
        if (checked) b.mode(HeapMode.CHECKED).quarantine(0);
        if (sites) b.trackSites(1.0);
        ThreadFactory factory = virtual ? Thread.ofVirtual().factory() : Thread.ofPlatform().factory();
        Random r = new Random(seed);
        try (Heap h = b.build(); ExecutorService other = Executors.newSingleThreadExecutor(factory)) {
            Map<Long, Long> model = new LinkedHashMap<>();
            for (int i = 0; i < 4; i++) {
                long size = 140_000 + r.nextInt(120_000);
                model.put(h.malloc(size), size);
            }
            List<Long> filler = new ArrayList<>();
            long fillerBytes = fill(h, filler);
            int farInPlace = 0;
            for (int step = 0; step < 400; step++) {
                List<Long> keys = new ArrayList<>(model.keySet());
                long p = keys.get(r.nextInt(keys.size()));
                boolean remote = r.nextBoolean();
                int op = r.nextInt(10);
                if (op < 7) { // realloc within the block: at the limit it stays, shrunk far or grown back
                    long usable = h.usableSize(p);
                    long n = r.nextInt(4) == 0 ? Math.min(usable, r.nextInt(64)) : r.nextLong(usable + 1);
                    long q;
                    try {
                        q = remote ? other.submit(() -> h.realloc(p, n)).get() : h.realloc(p, n);
                    } catch (HeapExhaustedException e) { // an Error: caught, or it would end the test JVM
                        throw new AssertionError("step " + step + ", realloc " + usable + " -> " + n + " refused", e);
                    } catch (java.util.concurrent.ExecutionException e) {
                        throw new AssertionError("step " + step + ", remote realloc " + usable + " -> " + n, e);
                    }
                    if (n == 0) { // realloc(p, 0) frees
                        model.remove(p);
                    } else {
                        model.remove(p);
                        model.put(q, n);
                        if (q == p && usable - n > Character.MAX_VALUE) farInPlace++;
                        assertThat(h.usableSize(q)).isGreaterThanOrEqualTo(n);
                    }
                } else { // a free, then a medium malloc in its room (refused, it is left out)
                    if (remote) other.submit(() -> h.free(p)).get();
                    else h.free(p);
                    model.remove(p);
                    long size = 140_000 + r.nextInt(120_000);
                    try {
                        long q = r.nextBoolean() ? other.submit(() -> h.malloc(size)).get() : h.malloc(size);
                        model.put(q, size);
                    } catch (HeapExhaustedException refused) {
                        // the limit: on with one block fewer
                    } catch (java.util.concurrent.ExecutionException e) {
                        if (!(e.getCause() instanceof HeapExhaustedException)) throw e;
                    }
                }
                if (model.isEmpty()) model.put(h.malloc(1000), 1000L);
                fillerBytes += fill(h, filler); // back at the limit, so that a shrink stays in place
                assertThat(h.stats().liveBytes()).as("step %d", step).isEqualTo(fillerBytes + sum(model));
                if (sites) assertThat(h.leaks().liveBytes()).as("leaks, step %d", step)
                        .isEqualTo(fillerBytes + sum(model));
            }
            assertThat(farInPlace).as("far shrinks in place").isPositive();
            assertThat(h.verify()).isEmpty();
            for (long p : model.keySet()) h.free(p);
            for (long f : filler) h.free(f);
            other.submit(() -> h.free(0)).get(); // the other thread collects nothing more: its frees are done
            HeapStats s = h.stats();
            assertThat(s.liveBytes()).isZero();
            assertThat(s.freeBytes()).isEqualTo(s.committedBytes());
            assertThat(h.verify()).isEmpty();
        }
    }

    /** Fills the heap to its limit; @return the bytes allocated, each block's address added to {@code blocks} */
    private static long fill(Heap h, List<Long> blocks) {
        long bytes = 0;
        for (long s : new long[] {1L << 20, 262_145, 36_864, 4097, 1025, 129, 16}) {
            try {
                while (true) {
                    blocks.add(h.malloc(s));
                    bytes += s;
                }
            } catch (HeapExhaustedException full) {
                // on to the next size
            }
        }
        return bytes;
    }

    private static long sum(Map<Long, Long> model) {
        long s = 0;
        for (long v : model.values()) s += v;
        return s;
    }
}
