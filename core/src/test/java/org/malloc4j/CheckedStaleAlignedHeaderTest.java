package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A freed aligned block leaves its header in memory, 16 bytes before its program address {@code p}, and the header
 * names its front: {@code p - front} was its engine block. Once that memory is a slab of small blocks, a live small
 * block may start at {@code p - front} again while {@code p} lies in a part of the slab no block has written yet. The
 * stale header then still validates (its hash is of {@code p} and itself), its engine block reads live, and a free of
 * {@code p} must not take it for a block. Found by the fuzz campaign (checked-small-res, seed 9102): with a live tail
 * canary where the stale header's size ends, it read as a live block whose FREED bit a stray write had set, and the
 * free threw HeapCorruptionException instead of naming a free of an address that is no block.
 */
class CheckedStaleAlignedHeaderTest {
    private static final long SIZE = 3050;

    /**
     * An aligned block of 3050 bytes at engine block b (p = b + 4096) freed straight to the engine; then 14 small
     * blocks in the slab that reuses b: the 14th (474 bytes at b + 6672) ends where the stale header's block ended,
     * so its live tail canary is where the stale header's freed one was. Returns {p, the small blocks...}.
     */
    private static long[] staleHeaderOverALiveTail(Heap heap) {
        long p = heap.alignedAlloc(4096, SIZE);
        long b = p - 4096;
        heap.free(p);
        long[] out = new long[15];
        out[0] = p;
        for (int k = 0; k < 14; k++) {
            long size = k == 13 ? 474 : 440; // both engine blocks of 512 bytes, 440 ends short of p - 16
            out[k + 1] = heap.malloc(size);
            assertThat(out[k + 1] - b).as("small block %d reuses the aligned block's memory in order", k)
                    .isEqualTo(512L * k + 16);
        }
        assertThat(out[14] + 474).as("the last small block's tail is where the stale header's block ended")
                .isEqualTo(p + SIZE);
        return out;
    }

    private static Heap checked() {
        return Heap.builder().mode(HeapMode.CHECKED).quarantine(0).decay(Duration.ofHours(1)).jmx(false).build();
    }

    @Test
    void freeOfTheStaleAddressIsAnInvalidFreeAndTheHeapStaysWhole() {
        try (Heap heap = checked()) {
            long[] blocks = staleHeaderOverALiveTail(heap);
            long p = blocks[0];
            assertThatThrownBy(() -> heap.free(p)).isExactlyInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("0x" + Long.toHexString(p));
            assertThatThrownBy(() -> heap.realloc(p, 100)).isExactlyInstanceOf(InvalidFreeException.class);
            assertThatThrownBy(() -> heap.free(MemorySegment.ofAddress(p)))
                    .isExactlyInstanceOf(InvalidFreeException.class);
            assertThatThrownBy(() -> heap.reallocate(MemorySegment.ofAddress(p).reinterpret(8), 100, 64))
                    .isExactlyInstanceOf(InvalidFreeException.class);
            assertThat(heap.verify()).as("no damage found or made").isEmpty();
            for (int k = 1; k < blocks.length; k++) heap.free(blocks[k]);
            assertThat(heap.stats().liveBytes()).isZero();
        }
    }

    @Test
    void usableSizeOfTheStaleAddressNamesNoBlock() {
        try (Heap heap = checked()) {
            long[] blocks = staleHeaderOverALiveTail(heap);
            assertThatThrownBy(() -> heap.usableSize(blocks[0])).isExactlyInstanceOf(InvalidFreeException.class);
            for (int k = 1; k < blocks.length; k++) heap.free(blocks[k]);
        }
    }
}
