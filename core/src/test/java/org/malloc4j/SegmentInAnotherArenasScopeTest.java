package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A live segment of one arena reinterpreted into the scope of another arena of the heap is refused by the arena whose
 * scope it has, and left live; the refusal said "it was freed already, or it is inside a segment", neither true.
 */
class SegmentInAnotherArenasScopeTest {

    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void anotherArenasLiveSegmentIsRefusedAsNotThisArenas(HeapMode mode) {
        try (Heap heap = Heap.builder().mode(mode).failOnLeak(true).jmx(false).build();
                Arena a = heap.newSharedArena(); Arena b = heap.newArena()) {
            MemorySegment s = a.allocate(8192);
            MemorySegment inB = MemorySegment.ofAddress(s.address()).reinterpret(8192, b, null);
            assertThatThrownBy(() -> heap.free(inB)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("0x" + Long.toHexString(s.address()))
                    .hasMessageContaining("not this arena's");
            s.fill((byte) 1); // still live
            heap.free(s);
            assertThat(heap.verify()).isEmpty();
        }
    }
}
