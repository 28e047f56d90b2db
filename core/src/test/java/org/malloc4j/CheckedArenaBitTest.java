package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The ARENA bit of a CHECKED header and the one-multiply check word, from a review of 2026-12-06: with ARENA at bit
 * 63 a write flipping the sign of both header words left a valid header (bit 63 of h0 flips exactly bit 63 of the
 * check word), and a raw free of an arena segment whose header was damaged released it under its arena.
 */
class CheckedArenaBitTest {
    private static MemorySegment all(long address, long size) {
        return MemorySegment.ofAddress(address).reinterpret(size);
    }

    /** x ^= Long.MIN_VALUE on the two header words (a sign-flipping loop, a radix sort's key flip, at [-2, -1]). */
    private static void flipSigns(long p) {
        MemorySegment h = all(p - 16, 16);
        h.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, h.get(ValueLayout.JAVA_LONG_UNALIGNED, 0) ^ Long.MIN_VALUE);
        h.set(ValueLayout.JAVA_LONG_UNALIGNED, 8, h.get(ValueLayout.JAVA_LONG_UNALIGNED, 8) ^ Long.MIN_VALUE);
    }

    /**
     * Bit 63 of h0 is now allowed (ARENA), and h1 = secret ^ p ^ h0 * K: flipping bit 63 of h0 flips exactly bit 63 of
     * h1 (2^63 * K = 2^63 mod 2^64). An underflow that flips the sign of both header words leaves a header that
     * validates: verify() sees nothing, and a free says "a segment of one of the heap's arenas".
     */
    @Test
    void anUnderflowFlippingBothHeaderSignBitsIsFound() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build()) {
            long p = heap.malloc(64);
            flipSigns(p);
            List<HeapDamage> found;
            try {
                found = heap.verify();
            } finally {
                flipSigns(p); // repair, so that the heap closes cleanly
            }
            heap.free(p);
            assertThat(found).as("underflow over the header's two words").hasSize(1);
            assertThat(found.getFirst().kind()).isEqualTo(HeapDamage.Kind.UNDERFLOW);
        }
    }

    /** The same two-bit change turns an arena's segment into a plain heap block, which a raw free then takes. */
    @Test
    void aSignFlippedArenaSegmentIsNotFreedThroughTheHeap() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build()) {
            Arena arena = heap.newArena();
            MemorySegment s = arena.allocate(64);
            long a = s.address();
            flipSigns(a);
            boolean freedByHeap = false;
            try {
                heap.free(a);
                freedByHeap = true;
            } catch (HeapCorruptionException | InvalidFreeException expected) {
                // refused, or reported as damage
            }
            try {
                assertThat(freedByHeap).as("the heap freed an arena's segment through its raw address").isFalse();
            } finally {
                if (!freedByHeap) flipSigns(a);
                try { arena.close(); } catch (RuntimeException ignored) {}
            }
        }
    }

    /**
     * A raw free (or realloc) of an arena segment whose check word was hit (an underflow of one byte) goes to
     * damagedOrNotLive, which releases the block to the engine. The arena still lists it: a second arena's segment
     * takes the same block, and the first arena's close frees that live segment (then its own free is refused).
     */
    @Test
    void aDamagedArenaSegmentFreedByAddressStaysTheArenas() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build()) {
            Arena first = heap.newArena();
            MemorySegment s1 = first.allocate(64);
            MemorySegment before = all(s1.address() - 1, 1);
            before.set(ValueLayout.JAVA_BYTE, 0, (byte) ~before.get(ValueLayout.JAVA_BYTE, 0)); // a one-byte underflow
            assertThatThrownBy(() -> heap.free(s1.address())).isInstanceOf(RuntimeException.class);
            Arena second = heap.newArena();
            MemorySegment s2 = second.allocate(64);
            try {
                first.close();
            } catch (HeapCorruptionException expected) {
                // the damage, reported by the arena's close
            }
            assertThatCode(() -> heap.free(s2)).as("s2 at 0x%x (s1 was 0x%x) freed by the first arena's close",
                    s2.address(), s1.address()).doesNotThrowAnyException();
            second.close();
        }
    }
}
