package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A realloc that shrinks a block, or grows it within the bytes it already has, needs no memory: the block can stay
 * where it is. Until 2026-12-07, in a heap at its limit, such a realloc threw HeapExhaustedException whenever the
 * engine's rule sent the block to a smaller size class (a page run shrunk to a small size, a small block shrunk by
 * more than a class, an aligned block grown within its usable size) and that class had no room: a program freeing
 * memory by shrinking a buffer was refused for lack of memory. Refused, the move now gives way to a resize in place.
 */
class ShrinkingReallocUnderTheLimitTest {
    private static final long LIMIT = 4L << 20;

    /** The six ways a realloc's move to a smaller class can be refused: what, size, alignment, new size. */
    static Stream<Arguments> refusableMoves() {
        return Stream.of(
                Arguments.of("page run to a small size", 2_097_152L, 16L, 20_000L),
                Arguments.of("page run to a tiny size", 300_001L, 16L, 1L),
                Arguments.of("small block to a smaller class", 20_000L, 16L, 5_000L),
                Arguments.of("medium block to a smaller medium class", 100_000L, 16L, 70_000L),
                Arguments.of("aligned page run grown within its page", 5_000L, 8_192L, 8_000L),
                Arguments.of("aligned small block grown within its class", 100L, 4_096L, 3_000L));
    }

    @ParameterizedTest(name = "{0}: {1} (aligned to {2}) -> {3}")
    @MethodSource("refusableMoves")
    void theBlockStaysWhereItIs(String what, long size, long alignment, long newSize) {
        try (Heap h = Heap.builder().limit(LIMIT).decay(Duration.ofHours(1)).spareBytes(0).jmx(false).build()) {
            long p = alignment <= 16 ? h.malloc(size) : h.alignedAlloc(alignment, size);
            List<Long> filler = fillToTheLimit(h);
            long kept = Math.min(size, newSize);
            Blocks.fill(p, size, (byte) 0x6d);
            HeapStats before = h.stats();
            long q;
            try {
                q = h.realloc(p, newSize);
            } catch (HeapExhaustedException e) { // an Error: caught here, or it would end the test JVM
                throw new AssertionError(what + ": refused, " + e.getMessage(), e);
            }
            assertThat(q).as(what).isEqualTo(p);
            Blocks.check(q, size, kept, (byte) 0x6d);
            assertThat(h.usableSize(q)).as(what).isGreaterThanOrEqualTo(newSize);
            HeapStats after = h.stats();
            assertThat(after.liveBytes()).as(what).isEqualTo(before.liveBytes() - size + newSize);
            assertThat(after.peakLiveBytes()).as(what).isEqualTo(Math.max(before.peakLiveBytes(), after.liveBytes()));
            assertThat(after.mallocCount()).as(what).isEqualTo(before.mallocCount());
            assertThat(after.freeCount()).as(what).isEqualTo(before.freeCount());
            assertThat(after.committedBytes()).as(what).isLessThanOrEqualTo(LIMIT);
            Blocks.fill(q, newSize, (byte) 0x6e); // all of it usable
            h.free(q);
            for (long b : filler) h.free(b);
            assertThat(h.stats().liveBytes()).isZero();
            assertThat(h.verify()).isEmpty();
        }
    }

    /** Allocates blocks of falling sizes until the heap refuses each: no class left with room for another slab. */
    static List<Long> fillToTheLimit(Heap h) {
        List<Long> blocks = new ArrayList<>();
        for (long s : new long[] {1L << 20, 262_145, 36_864, 4097, 1025, 129, 16}) {
            try {
                while (true) blocks.add(h.malloc(s));
            } catch (HeapExhaustedException full) {
                // on to the next size
            }
        }
        return blocks;
    }
}
