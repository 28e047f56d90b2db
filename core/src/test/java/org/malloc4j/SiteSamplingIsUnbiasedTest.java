package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Sampling by bytes weighs each sample by one over its chance: over many blocks of a mix of sizes (and of blocks
 * resized in place, moved, grown from empty), each site's estimate and the total are within six standard deviations
 * of the true bytes, the deviations computed from the chances themselves ({@code s^2 (1 - p) / p} a block), and six
 * deviations are a few percent here. No timing: a failure by chance is a one-in-a-billion event.
 */
class SiteSamplingIsUnbiasedTest {
    private static final double MEAN = 512 / 0.25; // trackSites(0.25): one sample per 2 KiB on average

    private static double chance(long size) {
        return -Math.expm1(-size / MEAN);
    }

    /** Per site: its true bytes and the variance of its estimate. */
    private final Map<String, double[]> truth = new HashMap<>();

    private void expect(String site, long size, long count) {
        double p = chance(size);
        double[] t = truth.computeIfAbsent(site, s -> new double[2]);
        t[0] += (double) size * count;
        t[1] += count * (double) size * size * (1 - p) / p;
    }

    @Test
    void estimatesOfAMixOfSizesAreWithinAFewPercentOfTheTrueBytes() {
        try (Heap heap = Heap.builder().trackSites(0.25).reserve(8L << 30).jmx(false).build()) {
            List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < 400_000; i++) blocks.add(tiny(heap));
            expect("tiny", 16, 400_000);
            for (int i = 0; i < 100_000; i++) blocks.add(small(heap));
            expect("small", 200, 100_000);
            for (int i = 0; i < 10_000; i++) blocks.add(medium(heap));
            expect("medium", 3000, 10_000);
            for (int i = 0; i < 1_000; i++) blocks.add(large(heap));
            expect("large", 40_000, 1_000);
            for (int i = 0; i < 30; i++) blocks.add(huge(heap));
            expect("huge", 1 << 20, 30);
            // Resized in place within its class (100 -> 110): sampled with the chance of 110 bytes
            // (a block the realloc samples takes its stack: the same method's here)
            for (int i = 0; i < 100_000; i++) blocks.add(resizedInPlace(heap, 100, 110));
            expect("resizedInPlace", 110, 100_000);
            // Moved to another class (100 -> 3000), grown in place from empty (a page run of 0 bytes), shrunk in place
            for (int i = 0; i < 10_000; i++) blocks.add(moved(heap));
            expect("moved", 3000, 10_000);
            for (int i = 0; i < 300; i++) blocks.add(grownFromEmpty(heap));
            expect("grownFromEmpty", 100_000, 300);
            for (int i = 0; i < 3_000; i++) blocks.add(shrunk(heap));
            expect("shrunk", 40_000, 3_000);
            double[] expected = new double[2];
            truth.values().forEach(t -> {
                expected[0] += t[0];
                expected[1] += t[1];
            });
            LeakReport r = heap.leaks();
            assertThat(r.liveBytes()).isEqualTo((long) expected[0]);
            Map<String, Long> estimated = new HashMap<>();
            long total = 0;
            for (LeakReport.Entry e : r.entries()) {
                estimated.merge(e.site().getFirst().getMethodName(), e.estimatedBytes(), Long::sum);
                total += e.estimatedBytes();
            }
            for (Map.Entry<String, double[]> t : truth.entrySet()) {
                double bytes = t.getValue()[0], sd = Math.sqrt(t.getValue()[1]);
                assertThat(6 * sd).as("the test's power at %s", t.getKey()).isLessThan(0.12 * bytes);
                assertThat((double) estimated.getOrDefault(t.getKey(), 0L)).as("estimate of %s", t.getKey())
                        .isBetween(bytes - 6 * sd, bytes + 6 * sd);
            }
            double sd = Math.sqrt(expected[1]);
            assertThat(6 * sd).isLessThan(0.02 * expected[0]);
            assertThat((double) total).as("total estimate").isBetween(expected[0] - 6 * sd, expected[0] + 6 * sd);
            for (long b : blocks) heap.free(b);
        }
    }

    private static long tiny(Heap heap) {
        return heap.malloc(16);
    }

    private static long small(Heap heap) {
        return heap.malloc(200);
    }

    private static long medium(Heap heap) {
        return heap.malloc(3000);
    }

    private static long large(Heap heap) {
        return heap.malloc(40_000);
    }

    private static long huge(Heap heap) {
        return heap.malloc(1 << 20);
    }

    private static long resizedInPlace(Heap heap, long from, long to) {
        long p = heap.malloc(from);
        long q = heap.realloc(p, to);
        assertThat(q).isEqualTo(p);
        return q;
    }

    private static long moved(Heap heap) {
        long p = heap.malloc(100);
        long q = heap.realloc(p, 3000);
        assertThat(q).isNotEqualTo(p);
        return q;
    }

    private static long grownFromEmpty(Heap heap) {
        return heap.realloc(heap.alignedAlloc(8192, 0), 100_000);
    }

    private static long shrunk(Heap heap) {
        long p = heap.malloc(1 << 20);
        long q = heap.realloc(p, 40_000);
        assertThat(q).isEqualTo(p);
        return q;
    }
}
