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
 * {@code reallocate(segment, n, alignment)} above 16 bytes always moved the block (a new aligned block, a copy, the
 * old one freed), even when the block's address already had the alignment: a shrink, or a call with the same size,
 * needs no memory, yet a heap at its limit refused it with HeapExhaustedException, and every call paid a copy. A
 * block at an address with the alignment now resizes as {@code reallocate(segment, n)} does (in place where that
 * stays, a move refused for a shrink giving way to a shrink in place).
 */
class AlignedReallocateInPlaceTest {
    private static final long LIMIT = 4L << 20;

    /** What, size, alignment, new size, CHECKED. */
    static Stream<Arguments> shrinks() {
        return Stream.of(
                Arguments.of("small block to a smaller class", 3_000L, 256L, 100L, false),
                Arguments.of("small block, same size", 3_000L, 256L, 3_000L, false),
                Arguments.of("medium block to a smaller medium class", 100_000L, 4_096L, 50_000L, false),
                Arguments.of("page run to a small size", 300_000L, 65_536L, 1_000L, false),
                Arguments.of("page run to a smaller run", 1_000_000L, 8_192L, 300_000L, false),
                Arguments.of("small block to a smaller class", 3_000L, 256L, 100L, true),
                Arguments.of("medium block to a smaller one", 100_000L, 4_096L, 50_000L, true),
                Arguments.of("page run to a small size", 300_000L, 65_536L, 1_000L, true),
                Arguments.of("to nothing", 5_000L, 1_024L, 0L, true));
    }

    @ParameterizedTest(name = "{0}: {1} (aligned to {2}) -> {3}, CHECKED {4}")
    @MethodSource("shrinks")
    void anAlignedShrinkAtTheLimitStaysWhereItIs(String what, long size, long alignment, long newSize, boolean checked) {
        Heap.Builder b = Heap.builder().limit(LIMIT).decay(Duration.ofHours(1)).spareBytes(0).jmx(false);
        if (checked) b.mode(HeapMode.CHECKED).quarantine(0);
        try (Heap h = b.build()) {
            MemorySegment s = h.allocate(size, alignment);
            List<Long> filler = ShrinkingReallocUnderTheLimitTest.fillToTheLimit(h);
            Blocks.fill(s.address(), size, (byte) 0x5a);
            HeapStats before = h.stats();
            MemorySegment t;
            try {
                t = h.reallocate(s, newSize, alignment);
            } catch (HeapExhaustedException e) { // an Error: caught here, or it would end the test JVM
                throw new AssertionError(what + ": refused, " + e.getMessage(), e);
            }
            assertThat(t.address()).as(what).isEqualTo(s.address());
            assertThat(t.byteSize()).as(what).isEqualTo(newSize);
            Blocks.check(t.address(), size, newSize, (byte) 0x5a);
            assertThat(h.usableSize(t.address())).as(what).isGreaterThanOrEqualTo(newSize);
            HeapStats after = h.stats();
            assertThat(after.liveBytes()).as(what).isEqualTo(before.liveBytes() - size + newSize);
            assertThat(after.mallocCount()).as(what).isEqualTo(before.mallocCount());
            assertThat(after.freeCount()).as(what).isEqualTo(before.freeCount());
            if (checked) {
                // The old segment's scope closed, as for any reallocate that returned a segment
                assertThatThrownBy(() -> s.get(ValueLayout.JAVA_BYTE, 0)).as(what)
                        .isInstanceOf(IllegalStateException.class);
            }
            h.free(t);
            for (long f : filler) h.free(f);
            assertThat(h.stats().liveBytes()).as(what).isZero();
            assertThat(h.verify()).as(what).isEmpty();
        }
    }

    /** FAST: a block that stays in its class, or a page run that grows into the free pages after it, is not copied. */
    @Test
    void aFastAlignedResizeThatFitsIsInPlace() {
        try (Heap h = Heap.builder().jmx(false).build()) {
            MemorySegment s = h.allocate(3_000, 256);
            MemorySegment t = h.reallocate(s, 2_900, 256);
            assertThat(t.address()).isEqualTo(s.address());
            MemorySegment run = h.allocate(1_000_000, 8_192);
            MemorySegment grown = h.reallocate(run, 1_100_000, 8_192);
            assertThat(grown.address()).isEqualTo(run.address());
            assertThat(h.stats().liveBytes()).isEqualTo(2_900 + 1_100_000);
            h.free(t);
            h.free(grown);
            assertThat(h.stats().liveBytes()).isZero();
        }
    }

    /** A block whose address lacks the alignment still moves to one that has it, its contents kept. */
    @ParameterizedTest(name = "CHECKED {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void aBlockWithoutTheAlignmentMoves(boolean checked) {
        Heap.Builder b = Heap.builder().jmx(false);
        if (checked) b.mode(HeapMode.CHECKED);
        try (Heap h = b.build()) {
            MemorySegment a = h.allocate(48), c = h.allocate(48);
            // Not by chance at the alignment (of two blocks side by side, one at most is)
            MemorySegment s = (a.address() & 4_095) != 0 ? a : c, pad = s == a ? c : a;
            Blocks.fill(s.address(), 48, (byte) 0x11);
            MemorySegment t = h.reallocate(s, 32, 4_096);
            assertThat(t.address() & 4_095).isZero();
            Blocks.check(t.address(), 48, 32, (byte) 0x11);
            h.free(t);
            h.free(pad);
            assertThat(h.verify()).isEmpty();
        }
    }

    /** The refused move of an aligned shrink that stays in place refuses the program nothing: JFR is told of none. */
    @ParameterizedTest(name = "CHECKED {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void anAlignedShrinkThatStaysIsNoExhaustion(boolean checked) throws Exception {
        String name = "aligned-shrink-quiet-" + checked;
        Path file = Files.createTempFile("malloc4j-aligned-shrink", ".jfr");
        Heap.Builder b = Heap.builder().name(name).limit(LIMIT).decay(Duration.ofHours(1)).spareBytes(0).jmx(false);
        if (checked) b.mode(HeapMode.CHECKED).quarantine(0);
        try (Heap h = b.build()) {
            MemorySegment s = h.allocate(300_000, 65_536);
            List<Long> filler = ShrinkingReallocUnderTheLimitTest.fillToTheLimit(h);
            MemorySegment t;
            try (Recording r = new Recording()) {
                r.enable("org.malloc4j.HeapExhausted");
                r.start();
                try {
                    t = h.reallocate(s, 1_000, 65_536);
                } catch (HeapExhaustedException e) { // an Error: caught here, or it would end the test JVM
                    throw new AssertionError("refused, " + e.getMessage(), e);
                }
                r.stop();
                r.dump(file);
            }
            assertThat(t.address()).isEqualTo(s.address());
            assertThat(RecordingFile.readAllEvents(file))
                    .filteredOn(e -> e.getEventType().getName().equals("org.malloc4j.HeapExhausted")
                            && name.equals(e.getString("heap")))
                    .isEmpty();
            h.free(t);
            for (long f : filler) h.free(f);
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
