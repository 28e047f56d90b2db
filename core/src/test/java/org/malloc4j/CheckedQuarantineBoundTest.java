package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The quarantine's bound in bytes, red zones included, holds for aligned blocks too. Found by a review on 2026-12-07:
 * every block was charged 32 bytes of red zones whatever its front, and a 64 KiB quarantine held 8 MB of empty blocks
 * aligned to 4 KiB (8 KiB of engine memory each). A block is now charged its front, its bytes and its tail.
 */
class CheckedQuarantineBoundTest {
    /** Engine bytes held by blocks the engine counts live (quarantined blocks are live to it). */
    private static long engineLiveBytes(Heap heap) {
        long sum = 0;
        for (HeapSnapshot.Run r : heap.snapshot().runs()) {
            if (r.kind() == HeapSnapshot.Kind.BLOCK) sum += r.bytes();
            else if (r.kind() == HeapSnapshot.Kind.SLAB) sum += r.blockSize() * r.liveBlocks();
        }
        return sum;
    }

    @Test
    void alignedBlocksInQuarantineStayWithinItsCapacity() {
        long capacity = 64 << 10;
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(capacity).jmx(false).build()) {
            for (int i = 0; i < 1000; i++) heap.free(heap.alignedAlloc(4096, 0));
            assertThat(heap.stats().liveBlocks()).isZero();
            // The capacity plus one block that crossed the line, plus a batch's slack: far below 1 MiB
            assertThat(engineLiveBytes(heap)).as("engine bytes held by a quarantine of %d bytes", capacity)
                    .isLessThan(4 * capacity);
        }
    }

    @Test
    void plainBlocksInQuarantineStayWithinItsCapacity() { // the control
        long capacity = 64 << 10;
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(capacity).jmx(false).build()) {
            for (int i = 0; i < 1000; i++) heap.free(heap.malloc(4064));
            assertThat(engineLiveBytes(heap)).isLessThan(4 * capacity);
        }
    }
}
