package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * With every site recorded, a leak report lists exactly the live blocks at their addresses and sizes now, whatever
 * made them: malloc, calloc, alignedAlloc, reallocs that grow or shrink in place or move (small classes, page runs,
 * between the two), frees and reallocs on other threads (platform and virtual): no record left at a freed address,
 * none lost for a live block, none with a size the block no longer has. A fixed seed: the same steps every run.
 */
class SiteRecordsFollowTheirBlocksTest {
    private static final long[] SIZES = {0, 1, 16, 100, 110, 3000, 5000, 40_000, 100_000, 1 << 20, 3 << 20, 300_000};

    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void aReportHoldsExactlyTheLiveBlocksAfterReallocsAndFreesOnAnyThread(HeapMode mode) throws Exception {
        try (Heap heap = Heap.builder().mode(mode).trackSites(1).reserve(8L << 30).jmx(false).build()) {
            Random rnd = new Random(42);
            long[] block = new long[64], size = new long[64];
            for (int step = 0; step < 6_000; step++) {
                int k = rnd.nextInt(block.length), op = rnd.nextInt(4);
                long n = SIZES[rnd.nextInt(SIZES.length)], a = block[k];
                if (a == 0) {
                    block[k] = op == 0 ? heap.calloc(1, n)
                            : op == 1 ? heap.alignedAlloc(64L << rnd.nextInt(12), n) : heap.malloc(n);
                    size[k] = n;
                    continue;
                }
                long[] out = new long[1];
                if (op == 0) {
                    Thread.ofPlatform().start(() -> heap.free(a)).join();
                } else if (op == 1) {
                    Thread.ofVirtual().start(() -> out[0] = heap.realloc(a, n)).join();
                } else {
                    out[0] = heap.realloc(a, n); // realloc(a, 0) frees a and returns 0
                }
                block[k] = out[0];
                size[k] = n;
                if (step % 250 == 0) assertReportHolds(heap, block, size);
            }
            assertReportHolds(heap, block, size);
            for (long p : block) heap.free(p);
            assertThat(heap.leaks().entries()).isEmpty();
        }
    }

    private static void assertReportHolds(Heap heap, long[] block, long[] size) {
        Map<Long, Long> live = new HashMap<>();
        for (int i = 0; i < block.length; i++) if (block[i] != 0) live.put(block[i], size[i]);
        long liveBytes = live.values().stream().mapToLong(Long::longValue).sum();
        LeakReport r = heap.leaks();
        assertThat(r.liveBlocks()).isEqualTo(live.size());
        assertThat(r.liveBytes()).isEqualTo(liveBytes);
        assertThat(r.unattributedBlocks()).isZero();
        assertThat(r.entries().stream().mapToLong(LeakReport.Entry::blocks).sum()).isEqualTo(live.size());
        assertThat(r.entries().stream().mapToLong(LeakReport.Entry::bytes).sum()).isEqualTo(liveBytes);
        for (LeakReport.Entry e : r.entries()) assertThat(live).containsKeys(e.addresses().toArray(Long[]::new));
    }
}
