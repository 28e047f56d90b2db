package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * {@link Heap#reallocate}: the segment API's realloc. Contents kept up to the smaller size, the new segment's bounds
 * exact, alignment kept when asked, the block counted once in the statistics, and every refusal (a freed segment, a
 * heap segment, an arena's segment, bad sizes and alignments, a move the heap cannot hold) leaving the heap and the
 * old segment as they were.
 */
class SegmentReallocateTest {

    private static void fill(MemorySegment s, long n, int seed) {
        for (long i = 0; i < n; i++) s.set(ValueLayout.JAVA_BYTE, i, (byte) (seed + i * 31));
    }

    private static void assertFilled(MemorySegment s, long n, int seed) {
        for (long i = 0; i < n; i++) {
            assertThat(s.get(ValueLayout.JAVA_BYTE, i)).as("byte %d", i).isEqualTo((byte) (seed + i * 31));
        }
    }

    @Test
    void growsKeepingTheContentsAndTheNewBoundsAreExact() {
        try (Heap heap = Heap.create()) {
            MemorySegment s = heap.allocate(100, 1);
            fill(s, 100, 7);
            MemorySegment t = heap.reallocate(s, 10_000);
            assertThat(t.byteSize()).isEqualTo(10_000);
            assertThat(t.address() % 16).isZero();
            assertFilled(t, 100, 7);
            t.set(ValueLayout.JAVA_BYTE, 9_999, (byte) 1);
            assertThatThrownBy(() -> t.get(ValueLayout.JAVA_BYTE, 10_000)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThat(heap.stats().liveBytes()).isEqualTo(10_000);
            assertThat(heap.stats().liveBlocks()).isEqualTo(1);
            heap.free(t);
            assertThat(heap.stats().liveBytes()).isZero();
        }
    }

    @Test
    void shrinksKeepingThePrefix() {
        try (Heap heap = Heap.create()) {
            MemorySegment s = heap.allocate(5_000, 1);
            fill(s, 5_000, 3);
            MemorySegment t = heap.reallocate(s, 40);
            assertThat(t.byteSize()).isEqualTo(40);
            assertFilled(t, 40, 3);
            assertThat(heap.stats().liveBytes()).isEqualTo(40);
            heap.free(t);
            assertThat(heap.stats().liveBlocks()).isZero();
        }
    }

    @Test
    void toZeroBytesKeepsALiveBlockThatCanBeFreed() {
        try (Heap heap = Heap.create()) {
            MemorySegment s = heap.allocate(64, 1);
            MemorySegment t = heap.reallocate(s, 0);
            assertThat(t.byteSize()).isZero();
            assertThat(heap.stats().liveBlocks()).isEqualTo(1);
            assertThat(heap.stats().liveBytes()).isZero();
            assertThatThrownBy(() -> heap.free(s.address())).isInstanceOf(InvalidFreeException.class);
            heap.free(t);
            assertThat(heap.stats().liveBlocks()).isZero();
        }
    }

    @Test
    void keepsAnAlignmentAboveSixteenWhenAsked() {
        try (Heap heap = Heap.create()) {
            MemorySegment s = heap.allocate(300, 4096);
            fill(s, 300, 11);
            MemorySegment t = heap.reallocate(s, 9_000, 4096);
            assertThat(t.address() % 4096).isZero();
            assertThat(t.byteSize()).isEqualTo(9_000);
            assertFilled(t, 300, 11);
            MemorySegment u = heap.reallocate(t, 100, 1 << 20);
            assertThat(u.address() % (1 << 20)).isZero();
            assertFilled(u, 100, 11);
            assertThat(heap.stats().liveBlocks()).isEqualTo(1);
            assertThat(heap.stats().liveBytes()).isEqualTo(100);
            heap.free(u);
            assertThat(heap.stats().liveBlocks()).isZero();
        }
    }

    @Test
    void aFreedSegmentIsRefusedAndNothingChanges() {
        try (Heap heap = Heap.create()) {
            MemorySegment other = heap.allocate(48, 1);
            MemorySegment s = heap.allocate(32, 1);
            heap.free(s);
            long live = heap.stats().liveBytes(), mallocs = heap.stats().mallocCount();
            assertThatThrownBy(() -> heap.reallocate(s, 64))
                    .isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining(Long.toHexString(s.address()))
                    .hasMessageContaining("already freed");
            assertThatThrownBy(() -> heap.reallocate(s, 64, 256)).isInstanceOf(InvalidFreeException.class);
            assertThatThrownBy(() -> heap.reallocate(s, 0)).isInstanceOf(InvalidFreeException.class);
            assertThat(heap.stats().liveBytes()).isEqualTo(live);
            assertThat(heap.stats().mallocCount()).isEqualTo(mallocs);
            heap.free(other);
        }
    }

    @Test
    void segmentsTheHeapDidNotHandOutAreRefused() {
        try (Heap heap = Heap.create(); Heap another = Heap.create(); Arena arena = heap.newArena()) {
            assertThatThrownBy(() -> heap.reallocate(MemorySegment.ofArray(new byte[16]), 32))
                    .isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("heap segment");
            MemorySegment carved = arena.allocate(64, 8);
            assertThatThrownBy(() -> heap.reallocate(carved, 128))
                    .isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("arena");
            carved.set(ValueLayout.JAVA_BYTE, 63, (byte) 5); // still the arena's, still usable
            MemorySegment foreign = another.allocate(64, 1);
            assertThatThrownBy(() -> heap.reallocate(foreign, 128))
                    .isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("not from this heap");
            MemorySegment s = heap.allocate(256, 1);
            assertThatThrownBy(() -> heap.reallocate(s.asSlice(16), 512))
                    .isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("inside");
            heap.free(s);
            another.free(foreign);
        }
    }

    @Test
    void badSizesAndAlignmentsNameTheValue() {
        try (Heap heap = Heap.create()) {
            MemorySegment s = heap.allocate(16, 1);
            assertThatThrownBy(() -> heap.reallocate(s, -1))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-1");
            assertThatThrownBy(() -> heap.reallocate(s, 16, 24))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("24");
            assertThatThrownBy(() -> heap.reallocate(null, 16)).isInstanceOf(NullPointerException.class);
            assertThat(heap.stats().liveBytes()).isEqualTo(16);
            heap.free(s);
        }
    }

    @Test
    void aMoveTheHeapCannotHoldLeavesTheOldSegmentIntact() {
        try (Heap heap = Heap.builder().limit(8L << 20).build()) {
            MemorySegment s = heap.allocate(1 << 20, 1);
            fill(s, 1 << 20, 5);
            assertThatThrownBy(() -> heap.reallocate(s, 64L << 20)).isInstanceOf(HeapExhaustedException.class);
            assertThatThrownBy(() -> heap.reallocate(s, 64L << 20, 4096)).isInstanceOf(HeapExhaustedException.class);
            assertFilled(s, 1 << 20, 5);
            assertThat(heap.stats().liveBytes()).isEqualTo(1 << 20);
            heap.free(s);
        }
    }

    @Test
    void inCheckedModeADeadSegmentIsRefusedEvenWhenItsAddressIsLiveAgain() {
        // A quarantine of 0: a freed block goes back to the engine at once, so the next block of its size takes
        // its address. The dead segment must not reach that block.
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(0).build()) {
            MemorySegment s = heap.allocate(48, 1);
            heap.free(s);
            MemorySegment t = heap.allocate(48, 1);
            assertThat(t.address()).isEqualTo(s.address());
            fill(t, 48, 13);
            HeapStats before = heap.stats();
            assertThatThrownBy(() -> heap.reallocate(s, 4_000))
                    .isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining(Long.toHexString(s.address()))
                    .hasMessageContaining("already freed");
            assertThatThrownBy(() -> heap.free(s))
                    .isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("already freed");
            assertThat(heap.stats().liveBytes()).isEqualTo(before.liveBytes());
            assertThat(heap.stats().freeCount()).isEqualTo(before.freeCount());
            assertFilled(t, 48, 13);
            heap.free(t);
        }
    }

    @Test
    void inCheckedModeTheOldSegmentDiesAndTheNewOneIsChecked() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).build()) {
            MemorySegment s = heap.allocate(200, 1);
            fill(s, 200, 9);
            MemorySegment t = heap.reallocate(s, 2_000);
            assertThatThrownBy(() -> s.get(ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
            assertFilled(t, 200, 9);
            MemorySegment u = heap.reallocate(t, 50, 64);
            assertThatThrownBy(() -> t.get(ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
            assertThat(u.address() % 64).isZero();
            assertFilled(u, 50, 9);
            assertThat(heap.verify()).isEmpty();
            assertThat(heap.stats().liveBytes()).isEqualTo(50);
            heap.free(u);
            assertThatThrownBy(() -> u.get(ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
        }
    }
}
