package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * An arena's allocate with an alignment beyond half the heap's reservation is refused as the heap's own allocate
 * refuses it (IllegalArgumentException, now in the arenas' Javadoc), and one above 4 KiB with a size of 0 is
 * aligned, freed early and at close.
 */
class ArenaAlignmentBeyondTheReservationTest {
    @Test
    void anAlignmentBeyondHalfTheReservationIsAnIllegalArgumentAndChangesNothing() {
        for (HeapMode mode : HeapMode.values()) {
            try (Heap heap = Heap.builder().mode(mode).jmx(false).failOnLeak(true).build()) {
                long tooMuch = Long.highestOneBit(heap.stats().reservedBytes());
                for (Arena arena : new Arena[] {heap.newArena(), heap.newSharedArena()}) {
                    assertThatThrownBy(() -> heap.allocate(0, tooMuch)).isInstanceOf(IllegalArgumentException.class);
                    assertThatThrownBy(() -> arena.allocate(0, tooMuch)).as("%s, %s", mode, arena)
                            .isInstanceOf(IllegalArgumentException.class);
                    MemorySegment kept = arena.allocate(0, 8192);
                    MemorySegment freed = arena.allocate(0, 1 << 16);
                    assertThat(kept.address() % 8192).isZero();
                    assertThat(freed.address() % (1 << 16)).isZero();
                    heap.free(freed);
                    arena.close();
                    assertThat(heap.stats().liveBlocks()).as("%s, %s", mode, arena).isZero();
                }
            }
        }
    }
}
