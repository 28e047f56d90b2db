package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A CHECKED realloc always moves the block, so that a stale pointer lands in poison; but a shrink needs no memory.
 * Until 2026-12-07 a CHECKED heap at its limit refused every shrinking realloc with HeapExhaustedException where a
 * FAST heap resizes the block in place (ShrinkingReallocUnderTheLimitTest). Refused, the move now gives way to a
 * shrink in place, whose tail canary sits at the new size: an overflow past it is found as at any other block.
 */
class CheckedShrinkingReallocAtTheLimitTest {
    private static final long LIMIT = 4L << 20;

    /** What, size, alignment, new size. */
    static Stream<Arguments> shrinks() {
        return Stream.of(
                Arguments.of("small block within its class", 100L, 16L, 90L),
                Arguments.of("small block to a smaller class", 20_000L, 16L, 5_000L),
                Arguments.of("page run to a small size", 2_097_152L, 16L, 20_000L),
                Arguments.of("page run to a smaller run", 1_000_000L, 16L, 300_000L),
                Arguments.of("aligned small block", 3_000L, 256L, 100L),
                Arguments.of("aligned page run", 200_000L, 65_536L, 1_000L),
                Arguments.of("to nothing", 5_000L, 16L, 1L));
    }

    @ParameterizedTest(name = "{0}: {1} (aligned to {2}) -> {3}")
    @MethodSource("shrinks")
    void theBlockShrinksWhereItIsWithItsTailCanaryAtTheNewSize(String what, long size, long alignment, long newSize) {
        try (Heap h = Heap.builder().mode(HeapMode.CHECKED).limit(LIMIT).decay(Duration.ofHours(1)).spareBytes(0)
                .jmx(false).build()) {
            long p = alignment <= 16 ? h.malloc(size) : h.alignedAlloc(alignment, size);
            List<Long> filler = ShrinkingReallocUnderTheLimitTest.fillToTheLimit(h);
            Blocks.fill(p, size, (byte) 0x6d);
            HeapStats before = h.stats();
            long q;
            try {
                q = h.realloc(p, newSize);
            } catch (HeapExhaustedException e) { // an Error: caught here, or it would end the test JVM
                throw new AssertionError(what + ": refused, " + e.getMessage(), e);
            }
            assertThat(q).as(what).isEqualTo(p);
            Blocks.check(q, size, newSize, (byte) 0x6d);
            assertThat(h.usableSize(q)).as(what).isEqualTo(newSize);
            HeapStats after = h.stats();
            assertThat(after.liveBytes()).as(what).isEqualTo(before.liveBytes() - size + newSize);
            assertThat(after.mallocCount()).as(what).isEqualTo(before.mallocCount());
            assertThat(after.freeCount()).as(what).isEqualTo(before.freeCount());
            assertThat(h.verify()).as(what).isEmpty();
            // The tail canary guards the new size: one byte past it is an overflow
            Blocks.ALL.set(ValueLayout.JAVA_BYTE, q + newSize, (byte) ~Blocks.ALL.get(ValueLayout.JAVA_BYTE,
                    q + newSize));
            assertThat(h.verify()).as(what).singleElement().satisfies(d -> {
                assertThat(d.kind()).isEqualTo(HeapDamage.Kind.OVERFLOW);
                assertThat(d.address()).isEqualTo(q);
                assertThat(d.size()).isEqualTo(newSize);
                assertThat(d.offset()).isEqualTo(newSize);
            });
            assertThatThrownBy(() -> h.free(q)).as(what).isInstanceOf(HeapCorruptionException.class)
                    .hasMessageContaining("overflow");
            for (long b : filler) h.free(b);
            assertThat(h.stats().liveBytes()).as(what).isZero();
            assertThat(h.verify()).as(what).isEmpty();
        }
    }

    /**
     * The segment shrunk in place is a new one, at the same address; the old one's scope is closed, as a moved
     * block's is (it would reach past the new tail canary, into pages the block gave back). The refused move is no
     * exhaustion: JFR is told of none.
     */
    @Test
    void aSegmentShrunkInPlaceClosesTheOldOneAndTellsJfrNothing() throws Exception {
        String name = "checked-shrink-quiet";
        Path file = Files.createTempFile("malloc4j-checked-shrink", ".jfr");
        try (Heap h = Heap.builder().name(name).mode(HeapMode.CHECKED).limit(LIMIT).decay(Duration.ofHours(1))
                .spareBytes(0).jmx(false).build()) {
            MemorySegment old = h.allocate(1_000_000);
            List<Long> filler = ShrinkingReallocUnderTheLimitTest.fillToTheLimit(h);
            old.set(ValueLayout.JAVA_LONG, 0, 42);
            MemorySegment shrunk;
            try (Recording r = new Recording()) {
                r.enable("org.malloc4j.HeapExhausted");
                r.start();
                try {
                    shrunk = h.reallocate(old, 100);
                } catch (HeapExhaustedException e) { // an Error: caught here, or it would end the test JVM
                    throw new AssertionError("refused, " + e.getMessage(), e);
                }
                r.stop();
                r.dump(file);
            }
            assertThat(shrunk.address()).isEqualTo(old.address());
            assertThat(shrunk.byteSize()).isEqualTo(100);
            assertThat(shrunk.get(ValueLayout.JAVA_LONG, 0)).isEqualTo(42);
            assertThatThrownBy(() -> old.get(ValueLayout.JAVA_LONG, 0)).isInstanceOf(IllegalStateException.class);
            assertThat(RecordingFile.readAllEvents(file))
                    .filteredOn(e -> e.getEventType().getName().equals("org.malloc4j.HeapExhausted")
                            && name.equals(e.getString("heap")))
                    .isEmpty();
            h.free(shrunk);
            assertThatThrownBy(() -> shrunk.get(ValueLayout.JAVA_LONG, 0)).isInstanceOf(IllegalStateException.class);
            for (long b : filler) h.free(b);
            assertThat(h.verify()).isEmpty();
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
