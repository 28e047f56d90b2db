package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code reallocate(segment, 0)} keeps a live block of 0 bytes (where {@code realloc(p, 0)} frees, as glibc's does): a
 * shrink, which needs no memory. It moved to a new {@code malloc(0)} block, and a heap at its limit refused it
 * ("cannot allocate 0 bytes"), where a shrink to one byte stayed in place. Now the block stays when its move is
 * refused, as any shrinking realloc's does.
 */
class ReallocateToZeroAtTheLimitTest {
    @ParameterizedTest
    @CsvSource({"100, false", "3000, false", "300000, false", "100, true", "300000, true"})
    void aShrinkToZeroBytesAtTheLimitIsNeverRefused(long size, boolean checked) {
        Heap.Builder b = Heap.builder().limit(1 << 20).jmx(false);
        if (checked) b.mode(HeapMode.CHECKED).quarantine(0);
        try (Heap heap = b.build()) {
            MemorySegment s = heap.allocate(size, 1);
            s.set(ValueLayout.JAVA_BYTE, 0, (byte) 7);
            long fill;
            try {
                fill = heap.malloc((1 << 20) - heap.stats().committedBytes() - (checked ? 64 : 0));
            } catch (HeapExhaustedException e) {
                throw new AssertionError("the fill was refused: " + e.getMessage());
            }
            MemorySegment t;
            try {
                t = heap.reallocate(s, 0);
            } catch (HeapExhaustedException e) {
                throw new AssertionError("a shrink to 0 bytes was refused: " + e.getMessage());
            }
            assertThat(t.byteSize()).isZero();
            assertThat(heap.stats().liveBlocks()).isEqualTo(2);
            heap.free(t);
            heap.free(fill);
            assertThat(heap.stats().liveBlocks()).isZero();
            assertThat(heap.stats().liveBytes()).isZero();
        }
    }
}
