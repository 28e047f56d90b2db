package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The blocks a heap's stacks and arenas hold are the heap's own, not the program's: {@code free}, {@code realloc}
 * and {@code usableSize} of their addresses (the address 16 bytes before a frame's first segment, or an arena's
 * offset before its segment, each the start of a live engine block) are refused with an InvalidFreeException that
 * says whose block it is, and the stack, the arena and the heap are left as they were. Before: FAST freed a stack's
 * block, an arena's chunk and an arena segment's own block through {@code heap.free} (the frame then wrote into
 * freed memory, the arena's close freed it a second time), and CHECKED freed a stack's block.
 */
class HeldBlocksAreNotTheProgramsTest {

    private static String hex(long address) {
        return "0x" + Long.toHexString(address);
    }

    /** Asserts that free, realloc and usableSize of {@code block} are refused with a message naming it and {@code what}. */
    private static void refused(Heap heap, long block, String what) {
        HeapStats before = heap.stats();
        assertThatThrownBy(() -> heap.free(block)).isInstanceOf(InvalidFreeException.class)
                .hasMessageContaining(hex(block)).hasMessageContaining(what);
        assertThatThrownBy(() -> heap.realloc(block, 32)).isInstanceOf(InvalidFreeException.class)
                .hasMessageContaining(hex(block)).hasMessageContaining(what);
        assertThatThrownBy(() -> heap.realloc(block, 1 << 20)).isInstanceOf(InvalidFreeException.class)
                .hasMessageContaining(hex(block)).hasMessageContaining(what);
        assertThatThrownBy(() -> heap.usableSize(block)).isInstanceOf(InvalidFreeException.class)
                .hasMessageContaining(hex(block)).hasMessageContaining(what);
        HeapStats after = heap.stats();
        assertThat(after.liveBytes()).as("live bytes").isEqualTo(before.liveBytes());
        assertThat(after.mallocCount()).as("mallocs").isEqualTo(before.mallocCount());
        assertThat(after.freeCount()).as("frees").isEqualTo(before.freeCount());
    }

    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void aStacksBlockIsRefused(HeapMode mode) {
        try (Heap heap = Heap.builder().mode(mode).failOnLeak(true).jmx(false).build()) {
            try (StackFrame frame = heap.stack().push()) {
                MemorySegment s = frame.allocate(64);
                s.fill((byte) 7);
                refused(heap, s.address() - 16, "stack");
                // The stack is intact: its memory is still its own, and a block the heap hands out is elsewhere
                long other = heap.malloc(64);
                assertThat(other < s.address() - 16 || other >= s.address() + HeapStack.DEFAULT_SIZE).isTrue();
                heap.free(other);
                assertThat(s.get(ValueLayout.JAVA_BYTE, 63)).isEqualTo((byte) 7);
            }
            try (StackFrame frame = heap.stack().push()) {
                frame.allocate(HeapStack.DEFAULT_SIZE).fill((byte) 1);
            }
            assertThat(heap.verify()).isEmpty();
        }
    }

    /** FAST: the engine block under an arena's segment, {@code max(16, alignment)} bytes before it. */
    @Test
    void anArenasBlocksAreRefused() {
        try (Heap heap = Heap.builder().failOnLeak(true).jmx(false).build()) {
            try (Arena arena = heap.newArena()) {
                MemorySegment carved = arena.allocate(64); // the chunk's first segment: one granule into it
                MemorySegment slab = arena.allocate(8 << 10); // a block of its own, from a slab
                MemorySegment aligned = arena.allocate(64, 4096); // a block of its own, 4096 bytes into it
                MemorySegment run = arena.allocate(1 << 20); // a page run of its own
                for (MemorySegment s : new MemorySegment[] {carved, slab, aligned, run}) s.fill((byte) 3);
                refused(heap, carved.address() - 16, "arena");
                refused(heap, slab.address() - 16, "arena");
                refused(heap, aligned.address() - 4096, "arena");
                refused(heap, run.address() - 16, "arena");
                // Still the arena's: freed early through it, and its close frees the rest once
                heap.free(slab);
                heap.free(run);
                assertThat(carved.get(ValueLayout.JAVA_BYTE, 63)).isEqualTo((byte) 3);
                assertThat(aligned.get(ValueLayout.JAVA_BYTE, 63)).isEqualTo((byte) 3);
            }
            assertThat(heap.stats().liveBytes()).isZero();
            assertThat(heap.verify()).isEmpty();
        }
    }

    /** A heap's own blocks are never refused as the program's once they are given back: the same sizes still serve. */
    @Test
    void blocksOfTheSameSizesAsHeldOnesAreThePrograms() {
        try (Heap heap = Heap.builder().failOnLeak(true).jmx(false).build()) {
            for (int round = 0; round < 3; round++) {
                try (Arena arena = heap.newArena(); StackFrame frame = heap.stack().push()) {
                    arena.allocate(8 << 10);
                    arena.allocate(64);
                    frame.allocate(64);
                }
                long[] blocks = {heap.malloc(4096), heap.malloc((8 << 10) + 16), heap.malloc(HeapStack.DEFAULT_SIZE + 16),
                    heap.alignedAlloc(4096, 4096)};
                for (long b : blocks) {
                    assertThat(heap.usableSize(b)).isPositive();
                    heap.free(b);
                }
            }
            heap.stack(); // the thread's stack block is the heap's: given back at close, no leak
        }
    }
}
