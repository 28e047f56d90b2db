package org.malloc4j.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The naive heap is a teaching baseline, but a correct first-fit heap: no overlap, coalescing, exact counts. */
class NaiveFirstFitHeapTest {
    /**
     * A negative request was served as {@code malloc(0)}: a block of 16 bytes for a size no program can mean; a
     * negative range made a free extent of negative bytes.
     */
    @Test
    void negativeSizesAreRefusedAndTheHeapStaysAsItWas() {
        assertThatThrownBy(() -> new NaiveFirstFitHeap(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-1");
        NaiveFirstFitHeap h = new NaiveFirstFitHeap(1 << 20);
        long a = h.malloc(100);
        assertThatThrownBy(() -> h.malloc(-5)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-5");
        assertThatThrownBy(() -> h.malloc(Long.MIN_VALUE)).isInstanceOf(IllegalArgumentException.class);
        assertThat(h.freeBytes()).isEqualTo((1 << 20) - 112);
        assertThat(h.malloc(16)).isEqualTo(a + 112);
    }

    /**
     * Random mallocs and frees against a model: every block inside the range, 16-byte aligned, overlapping no other;
     * the first fit is the lowest free gap that holds the request; the free extents are exactly the maximal gaps
     * between live blocks (so free neighbours are always merged).
     */
    @Test
    void randomOperationsKeepBlocksApartAndFreeExtentsCoalesced() {
        SplittableRandom random = new SplittableRandom(42);
        long size = 64 * 1024 + 40; // not a multiple of 16: a tail too small for any block
        for (int round = 0; round < 20; round++) {
            NaiveFirstFitHeap h = new NaiveFirstFitHeap(size);
            TreeMap<Long, Long> live = new TreeMap<>(); // offset -> rounded bytes
            List<Long> order = new ArrayList<>();
            for (int op = 0; op < 2000; op++) {
                if (!order.isEmpty() && random.nextInt(100) < 45) {
                    long at = order.remove(random.nextInt(order.size()));
                    h.free(at);
                    live.remove(at);
                } else {
                    long bytes = random.nextInt(0, 3000);
                    long n = Math.max(16, (bytes + 15) & ~15L);
                    long expected = firstFit(live, size, n);
                    long at = h.malloc(bytes);
                    assertThat(at).as("malloc(%d) at op %d", bytes, op).isEqualTo(expected);
                    if (at >= 0) {
                        live.put(at, n);
                        order.add(at);
                    }
                }
                check(h, live, size);
            }
        }
    }

    /** @return the lowest offset of a gap between live blocks (or the range's ends) holding {@code n}, or -1 */
    private static long firstFit(TreeMap<Long, Long> live, long size, long n) {
        long end = 0;
        for (var e : live.entrySet()) {
            if (e.getKey() - end >= n) return end;
            end = e.getKey() + e.getValue();
        }
        return size - end >= n ? end : -1;
    }

    private static void check(NaiveFirstFitHeap h, TreeMap<Long, Long> live, long size) {
        long end = 0;
        long used = 0;
        int gaps = 0;
        long largest = 0;
        for (var e : live.entrySet()) {
            assertThat(e.getKey() % 16).isZero();
            assertThat(e.getKey()).as("a block overlaps the one before it").isGreaterThanOrEqualTo(end);
            if (e.getKey() > end) {
                gaps++;
                largest = Math.max(largest, e.getKey() - end);
            }
            end = e.getKey() + e.getValue();
            used += e.getValue();
        }
        assertThat(end).isLessThanOrEqualTo(size);
        if (size > end) {
            gaps++;
            largest = Math.max(largest, size - end);
        }
        assertThat(h.freeBytes()).isEqualTo(size - used);
        assertThat(h.freeExtents()).as("free extents not merged").isEqualTo(gaps);
        assertThat(h.largestFreeExtent()).isEqualTo(largest);
        assertThat(h.usedRange()).isEqualTo(end);
        assertThat(h.holeBytes()).isEqualTo(end - used);
    }
}
