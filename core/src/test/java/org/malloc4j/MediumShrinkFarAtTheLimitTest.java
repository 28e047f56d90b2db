package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A medium block (one block a slab, 32 to 256 KiB) records its requested size as its slack below the class size, in
 * a {@code char}: a shrink of more than 64 KiB below the class could not be recorded in place, so a realloc at the
 * heap's limit, whose move was refused, refused the shrink with HeapExhaustedException ("the slab's slack field"). A
 * shrink needs no memory: it now stays in place at any size, its live bytes exact until the block is freed, by its
 * owner or by another thread.
 */
class MediumShrinkFarAtTheLimitTest {
    private static final long LIMIT = 4L << 20;

    @ParameterizedTest(name = "{0} -> {1}, CHECKED {2}, freed by another thread {3}")
    @CsvSource({"200000, 1000, false, false", "200000, 100000, false, false", "250000, 0, false, false",
            "200000, 1000, false, true", "200000, 1000, true, false", "200000, 0, true, false",
            "200000, 1000, true, true"})
    void aFarShrinkOfAMediumBlockAtTheLimitStaysInPlace(long size, long newSize, boolean checked, boolean remote)
            throws Exception {
        Heap.Builder b = Heap.builder().limit(LIMIT).decay(Duration.ofHours(1)).spareBytes(0).jmx(false);
        if (checked) b.mode(HeapMode.CHECKED).quarantine(0);
        try (Heap h = b.build()) {
            MemorySegment s = h.allocate(size);
            List<Long> filler = ShrinkingReallocUnderTheLimitTest.fillToTheLimit(h);
            Blocks.fill(s.address(), size, (byte) 0x3c);
            HeapStats before = h.stats();
            MemorySegment t;
            try {
                t = h.reallocate(s, newSize);
            } catch (HeapExhaustedException e) { // an Error: caught here, or it would end the test JVM
                throw new AssertionError("refused, " + e.getMessage(), e);
            }
            assertThat(t.address()).isEqualTo(s.address());
            Blocks.check(t.address(), size, newSize, (byte) 0x3c);
            assertThat(h.usableSize(t.address())).isGreaterThanOrEqualTo(newSize);
            if (checked) assertThat(h.usableSize(t.address())).isEqualTo(newSize);
            HeapStats after = h.stats();
            assertThat(after.liveBytes()).isEqualTo(before.liveBytes() - size + newSize);
            assertThat(after.committedBytes()).isLessThanOrEqualTo(LIMIT);
            assertThat(h.verify()).isEmpty();
            if (remote) {
                Thread other = Thread.ofPlatform().start(() -> h.free(t));
                other.join();
            } else {
                h.free(t);
            }
            assertThat(h.stats().liveBytes()).isEqualTo(before.liveBytes() - size);
            for (long f : filler) h.free(f);
            assertThat(h.stats().liveBytes()).isZero();
            // The block's slab, reused, records a malloc's size afresh
            MemorySegment again = h.allocate(size);
            assertThat(h.stats().liveBytes()).isEqualTo(size);
            h.free(again);
            assertThat(h.stats().liveBytes()).isZero();
            // No medium block's rounding left over: every committed byte is free
            assertThat(h.stats().freeBytes()).isEqualTo(h.stats().committedBytes());
            assertThat(h.verify()).isEmpty();
        }
    }
}
