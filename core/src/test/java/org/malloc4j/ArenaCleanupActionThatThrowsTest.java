package org.malloc4j;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A cleanup action attached to a heap arena ({@code segment.reinterpret(size, arena, cleanup)}, the FFM idiom for a
 * pointer from C) runs inside the arena's {@code close}, in the JDK scope's close; when it throws, the JDK scope is
 * closed all the same (every segment is already inaccessible). The arena must then still give its chunks and blocks
 * back to the heap: nothing can free them later, and closing again only says "Already closed".
 */
class ArenaCleanupActionThatThrowsTest {

    @ParameterizedTest
    @CsvSource({"FAST,false", "FAST,true", "CHECKED,false", "CHECKED,true"})
    void aThrowingCleanupActionDoesNotKeepTheArenasMemoryForGood(HeapMode mode, boolean shared) {
        try (Heap heap = Heap.builder().mode(mode).jmx(false).build()) {
            Arena arena = shared ? heap.newSharedArena() : heap.newArena();
            MemorySegment small = arena.allocate(100);
            MemorySegment large = arena.allocate(10_000);
            MemorySegment.ofAddress(4096).reinterpret(8, arena, s -> {
                throw new IllegalArgumentException("a cleanup action that fails");
            });

            assertThatThrownBy(arena::close).isInstanceOf(IllegalArgumentException.class);

            assertThatThrownBy(() -> small.get(JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> large.get(JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(arena::close).isInstanceOf(IllegalStateException.class);
            assertThat(heap.stats().liveBlocks()).as("blocks the closed arena never gave back").isZero();
            assertThat(heap.stats().liveBytes()).isZero();
            assertThatThrownBy(() -> heap.free(large)).isInstanceOf(InvalidFreeException.class);
            assertThatThrownBy(() -> arena.allocate(10)).isInstanceOf(IllegalStateException.class);
        }
    }
}
