package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A segment whose scope is closed and which is not this heap's memory at all (an arena of the JDK's, closed; an arena
 * of another heap, closed; a CHECKED segment another heap freed) was refused by {@code free(segment)} and
 * {@code reallocate} as one of this heap's: "its block was already freed (by a free or reallocate of the segment, or
 * when its arena closed); no live block of heap h starts there". It is refused as any foreign address is: not from
 * this heap, and whose it is.
 */
class ClosedScopeOfAForeignSegmentTest {
    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void aForeignSegmentWhoseScopeIsClosedIsNamedAsNotFromThisHeap(HeapMode mode) {
        try (Heap heap = Heap.builder().mode(mode).name("mine").jmx(false).build();
                Heap other = Heap.builder().mode(mode).name("theirs").jmx(false).build()) {
            MemorySegment jdk;
            try (Arena arena = Arena.ofConfined()) {
                jdk = arena.allocate(64);
            }
            MemorySegment theirArenas;
            try (Arena arena = other.newArena()) {
                theirArenas = arena.allocate(64);
            }
            refused(heap, jdk, "outside its reserved range");
            refused(heap, theirArenas, "it belongs to heap theirs");
            if (mode == HeapMode.CHECKED) { // a segment of its own, closed at its free
                MemorySegment theirs = other.allocate(64);
                other.free(theirs);
                refused(heap, theirs, "it belongs to heap theirs");
            }
            HeapErrorTest.assertStillWorks(heap);
        }
    }

    private static void refused(Heap heap, MemorySegment segment, String whose) {
        List<Long> before = Blocks.state(heap.stats());
        String hex = Blocks.hex(segment.address());
        assertThatThrownBy(() -> heap.free(segment)).isInstanceOf(InvalidFreeException.class)
                .hasMessageContaining(hex + " is not from this heap (mine)").hasMessageContaining(whose)
                .hasMessageNotContaining("already freed");
        assertThatThrownBy(() -> heap.reallocate(segment, 128)).isInstanceOf(InvalidFreeException.class)
                .hasMessageContaining(hex + " is not from this heap (mine)").hasMessageContaining(whose)
                .hasMessageNotContaining("already freed");
        assertThat(Blocks.state(heap.stats())).isEqualTo(before);
    }
}
