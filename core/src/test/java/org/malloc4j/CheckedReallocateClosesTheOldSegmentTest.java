package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * CHECKED: the segment a program held before a {@code reallocate} that returned a segment must not be usable after it
 * (Heap.reallocate's contract), whether the block moved or stayed, shrunk in place because the heap at its limit
 * refused its move: any access throws IllegalStateException, and freeing it again is refused without touching the
 * block the new segment holds. A review suspected the in-place shrink left the old scope open; this pins it down for
 * every kind of block and for an alignment above 16.
 */
class CheckedReallocateClosesTheOldSegmentTest {
    private static final long LIMIT = 4L << 20;

    @ParameterizedTest(name = "{0} -> {1}, aligned to {2}, at the limit {3}")
    @CsvSource({"100, 90, 16, true", "20000, 5000, 16, true", "200000, 1000, 16, true", "1000000, 300000, 16, true",
            "3000, 100, 256, true", "100000, 50000, 4096, true", "100, 90, 16, false", "3000, 100, 256, false",
            "100, 5000, 16, false"})
    void theOldSegmentIsClosedAndItsFreeRefused(long size, long newSize, long alignment, boolean atTheLimit) {
        try (Heap h = Heap.builder().mode(HeapMode.CHECKED).quarantine(0).limit(LIMIT).decay(Duration.ofHours(1))
                .spareBytes(0).jmx(false).build()) {
            MemorySegment old = h.allocate(size, alignment);
            List<Long> filler = atTheLimit ? ShrinkingReallocUnderTheLimitTest.fillToTheLimit(h) : List.of();
            old.set(ValueLayout.JAVA_BYTE, 0, (byte) 42);
            MemorySegment t;
            try {
                t = h.reallocate(old, newSize, alignment);
            } catch (HeapExhaustedException e) { // an Error: caught here, or it would end the test JVM
                throw new AssertionError("refused, " + e.getMessage(), e);
            }
            if (atTheLimit) assertThat(t.address()).isEqualTo(old.address()); // shrunk in place
            assertThat(t.get(ValueLayout.JAVA_BYTE, 0)).isEqualTo((byte) 42);
            assertThatThrownBy(() -> old.get(ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
            long live = h.stats().liveBlocks();
            assertThatThrownBy(() -> h.free(old)).isInstanceOf(InvalidFreeException.class);
            assertThatThrownBy(() -> h.reallocate(old, 10)).isInstanceOf(InvalidFreeException.class);
            assertThat(h.stats().liveBlocks()).isEqualTo(live);
            t.set(ValueLayout.JAVA_BYTE, newSize - 1, (byte) 1); // the new segment still reaches its block
            h.free(t);
            for (long f : filler) h.free(f);
            assertThat(h.stats().liveBytes()).isZero();
            assertThat(h.verify()).isEmpty();
        }
    }
}
