package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * CHECKED: a segment from {@code allocate} freed twice is a double free, and is refused as one: the block, its size,
 * where it was allocated and first freed, as the double free of its raw address is. Its closed scope made it "a
 * segment whose scope is closed: its block was already freed", with neither its size nor its sites.
 */
class CheckedSegmentDoubleFreeTest {

    @Test
    void aSegmentFreedTwiceIsADoubleFreeNamingItsSizeAndSites() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).trackSites(1).jmx(false).build()) {
            MemorySegment s = heap.allocate(100);
            freeHere(heap, s);
            assertThatThrownBy(() -> heap.free(s)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("double free of block 0x" + Long.toHexString(s.address()))
                    .hasMessageContaining("(100 bytes)")
                    .hasMessageContaining("allocated by thread")
                    .hasMessageContaining("aSegmentFreedTwiceIsADoubleFreeNamingItsSizeAndSites")
                    .hasMessageContaining("first freed")
                    .hasMessageContaining("freeHere");
            assertThatThrownBy(() -> heap.reallocate(s, 200)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("(100 bytes)").hasMessageContaining("already freed");
            assertThat(heap.stats().liveBlocks()).isZero();
            assertThat(heap.verify()).isEmpty();
        }
    }

    @Test
    void withoutSitesTheDoubleFreeStillNamesTheBlockAndItsSize() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build()) {
            MemorySegment s = heap.allocate(48, 64);
            heap.free(s);
            assertThatThrownBy(() -> heap.free(s)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("double free of block 0x" + Long.toHexString(s.address()) + " (48 bytes)");
            assertThat(heap.stats().liveBlocks()).isZero();
        }
    }

    @Test
    void aBlockOutOfQuarantineOrAnArenasSegmentKeepTheirOwnWords() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(0).jmx(false).build()) {
            MemorySegment s = heap.allocate(100);
            heap.free(s); // no quarantine: given back at once
            assertThatThrownBy(() -> heap.free(s)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("its block was already freed");
        }
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build()) {
            MemorySegment s;
            try (Arena arena = heap.newArena()) {
                s = arena.allocate(100);
            }
            assertThatThrownBy(() -> heap.free(s)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("when its arena closed");
        }
    }

    private static void freeHere(Heap heap, MemorySegment s) {
        heap.free(s);
    }
}
