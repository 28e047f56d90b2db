package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * FAST: the address of an arena's segment or of a stack frame's segment, given to {@code free(long)}, {@code realloc}
 * or {@code usableSize}, lies inside a block the heap's arena or stack holds. The refusal said only "inside the
 * N-byte block at 0x... (offset 16), not at its start", as of a block of the program's: the program was sent to a
 * block start whose free is then refused as the heap's own. It now says who holds the block (CHECKED says it too:
 * "held by one of the heap's arenas or thread stacks"), and how such memory goes back.
 */
class AddressInsideAHeldBlockTest {
    @Test
    void anArenaSegmentsAddressNamesTheArenasBlock() {
        try (Heap heap = Heap.builder().failOnLeak(true).jmx(false).build()) {
            try (Arena arena = heap.newArena()) {
                MemorySegment carved = arena.allocate(64); // carved from a chunk, a slab block
                MemorySegment slab = arena.allocate(8 << 10); // a slab block of its own
                MemorySegment run = arena.allocate(1 << 20); // a page run of its own
                for (MemorySegment s : new MemorySegment[] {carved, slab, run}) {
                    s.fill((byte) 3);
                    refused(heap, s.address(), "arenas hold", "Heap.free(segment)");
                    refused(heap, s.address() + 8, "arenas hold", "Heap.free(segment)");
                }
                heap.free(run); // still the arena's: freed through it, once
                assertThat(carved.get(ValueLayout.JAVA_BYTE, 63)).isEqualTo((byte) 3);
            }
            assertThat(heap.stats().liveBytes()).isZero();
            HeapErrorTest.assertStillWorks(heap);
        }
    }

    @Test
    void aStackFramesSegmentsAddressNamesTheStack() {
        try (Heap heap = Heap.builder().failOnLeak(true).jmx(false).build()) {
            try (StackFrame frame = heap.stack().push()) {
                MemorySegment s = frame.allocate(64);
                s.fill((byte) 7);
                refused(heap, s.address(), "thread stacks", "popped");
                assertThat(s.get(ValueLayout.JAVA_BYTE, 63)).isEqualTo((byte) 7);
            }
            HeapErrorTest.assertStillWorks(heap);
        }
    }

    /** free, realloc and usableSize of {@code address} are refused as inside a held block, and change nothing. */
    private static void refused(Heap heap, long address, String... words) {
        List<Long> before = Blocks.state(heap.stats());
        for (Runnable call : new Runnable[] {() -> heap.free(address), () -> heap.realloc(address, 32),
            () -> heap.usableSize(address)}) {
            var thrown = assertThatThrownBy(call::run).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining(Blocks.hex(address) + " is inside the").hasMessageNotContaining("not live");
            for (String w : words) thrown.hasMessageContaining(w);
        }
        assertThat(Blocks.state(heap.stats())).isEqualTo(before);
    }
}
