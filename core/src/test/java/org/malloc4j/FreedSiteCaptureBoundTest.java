package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * A CHECKED heap that records sites notes where each sampled block is freed, for double-free reports: as a raw stack
 * capture (a throwable's backtrace) held by the block's record while the block waits in quarantine. The recorder
 * bounds the allocation captures it holds (4,096), but not these: every quarantined sampled block keeps a whole
 * backtrace, so the default 4 MiB quarantine of small blocks holds hundreds of MB of Java heap.
 */
class FreedSiteCaptureBoundTest {
    private static long usedJavaHeap() {
        for (int i = 0; i < 4; i++) System.gc();
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    /** Frees from under a stack of ordinary depth (an application's 40 frames or so). */
    private static void freeAllFrom(int depth, Heap heap, long[] blocks) {
        if (depth > 0) {
            freeAllFrom(depth - 1, heap, blocks);
            return;
        }
        for (long p : blocks) heap.free(p);
    }

    @Test
    void blocksWaitingInQuarantineDoNotEachHoldAStackCapture() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).trackSites(1).jmx(false).build()) {
            long[] blocks = new long[50_000];
            for (int i = 0; i < blocks.length; i++) blocks[i] = heap.malloc(16);
            long live = usedJavaHeap();
            freeAllFrom(20, heap, blocks);
            long freed = usedJavaHeap();
            // The default quarantine (4 MiB, each block charged its 16 bytes and 32 of red zones) holds them all
            // (without a bound, 2.3 KB of backtrace each: 117 MB); the records were there while the blocks lived.
            assertThat((freed - live) >> 20).as("MB of Java heap held for the quarantined blocks' free sites")
                    .isLessThan(24);
        }
    }
}
