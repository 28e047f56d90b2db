package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Heap.newArena(): on a CHECKED heap every segment is a block of its own, between the red zones of that mode. Found by
 * a review on 2026-12-06: the segment started 16 bytes into its CHECKED block, so the 16 bytes before it were the
 * block's bytes, not a red zone (an underflow was never found), and the damage found named the block's address and
 * size, which the program never saw. The segment's block is now marked as an arena's instead, and a free of its raw
 * address through the heap is refused by that mark.
 */
class CheckedArenaRedZoneTest {
    /**
     * Overwrites the byte at {@code address} with a different value. A fixed value would match the red zone's byte,
     * derived from the heap's secret, once in 256 heaps, and that heap's damage would go unseen.
     */
    private static void poke(long address) {
        MemorySegment b = MemorySegment.ofAddress(address).reinterpret(1);
        b.set(ValueLayout.JAVA_BYTE, 0, (byte) ~b.get(ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void underflowOfAnArenaSegmentIsFoundAsForAHeapSegment() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build()) {
            MemorySegment plain = heap.allocate(64);
            poke(plain.address() - 1);
            assertThat(heap.verify()).hasSize(1); // the heap's own segment: found

            Arena arena = heap.newArena();
            MemorySegment s = arena.allocate(64);
            poke(s.address() - 1);
            List<HeapDamage> found = heap.verify();
            try {
                assertThat(found).as("the arena segment's underflow").anyMatch(d -> d.address() == s.address());
            } finally {
                try { heap.free(plain); } catch (HeapCorruptionException expected) {}
                try { arena.close(); } catch (HeapCorruptionException ignored) {}
            }
        }
    }

    @Test
    void overflowOfAnArenaSegmentNamesTheSegment() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build()) {
            Arena arena = heap.newArena();
            MemorySegment s = arena.allocate(64);
            poke(s.address() + 64);
            List<HeapDamage> found = heap.verify();
            try {
                assertThat(found).hasSize(1);
                assertThat(found.getFirst().address()).as("damage address").isEqualTo(s.address());
                assertThat(found.getFirst().size()).as("damage size").isEqualTo(64);
            } finally {
                try { arena.close(); } catch (HeapCorruptionException ignored) {}
            }
        }
    }

    @Test
    void theRawAddressOfACheckedArenaSegmentIsRefusedByTheHeap() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build()) {
            try (Arena arena = heap.newArena()) {
                MemorySegment s = arena.allocate(64);
                MemorySegment big = arena.allocate(100_000, 4096);
                for (MemorySegment x : List.of(s, big)) {
                    long a = x.address();
                    org.assertj.core.api.Assertions.assertThatThrownBy(() -> heap.free(a))
                            .isInstanceOf(InvalidFreeException.class).hasMessageContaining("arenas");
                    org.assertj.core.api.Assertions.assertThatThrownBy(() -> heap.realloc(a, 10))
                            .isInstanceOf(InvalidFreeException.class).hasMessageContaining("arenas");
                    org.assertj.core.api.Assertions.assertThatThrownBy(() -> heap.usableSize(a))
                            .isInstanceOf(InvalidFreeException.class).hasMessageContaining("arenas");
                }
                heap.free(s); // through the segment: its arena frees it
                assertThat(heap.verify()).isEmpty();
            }
            assertThat(heap.stats().liveBytes()).isZero();
        }
    }
}
