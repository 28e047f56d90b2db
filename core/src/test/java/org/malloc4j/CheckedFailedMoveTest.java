package org.malloc4j;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A CHECKED move (realloc, reallocate) takes the new block, copies, then frees the old one; when that free throws,
 * the new block goes too, so that a failed move leaves no block the program never got. Found by a review on
 * 2026-12-07: the new block leaked when the old block's tail was damaged (reallocate with an alignment, or to 0 bytes)
 * and when the old segment was in use on a downcall (its scope cannot close, so the old block stays).
 */
class CheckedFailedMoveTest {
    private static Heap checked() {
        return Heap.builder().mode(HeapMode.CHECKED).jmx(false).build();
    }

    private static void damageTail(MemorySegment s) {
        MemorySegment tail = MemorySegment.ofAddress(s.address() + s.byteSize()).reinterpret(1);
        tail.set(ValueLayout.JAVA_BYTE, 0, (byte) ~tail.get(ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void aFailedMoveOfADamagedBlockLeavesNoBlock() {
        // {new size, alignment}: realloc's path, an aligned reallocate, and a reallocate to 0 bytes
        for (long[] c : new long[][] {{128, 16}, {128, 64}, {0, 16}}) {
            try (Heap heap = checked()) {
                MemorySegment s = heap.allocate(64);
                damageTail(s);
                assertThatThrownBy(() -> heap.reallocate(s, c[0], c[1])).isInstanceOf(HeapCorruptionException.class);
                assertThat(heap.stats().liveBlocks()).as("blocks live after the failed move %d/%d", c[0], c[1])
                        .isZero();
            }
        }
    }

    /**
     * The old block's free pushes another block, damaged, out of the quarantine: that damage is not the move's, which
     * stands (contents and all), and verify() reports it. A review found the move undone, the program's data lost
     * with both blocks (2026-12-07).
     */
    @Test
    void damageInAnotherBlockThatTheMovePushesOutOfQuarantineLeavesTheMoveStanding() {
        // Room for one 64-byte block (96 bytes with its red zones): the second free pushes the first out
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(100).jmx(false).build()) {
            long dangling = heap.malloc(64);
            heap.free(dangling);
            long hit = dangling + 8;
            Blocks.ALL.set(ValueLayout.JAVA_BYTE, hit, (byte) ~Blocks.ALL.get(ValueLayout.JAVA_BYTE, hit));
            long a = heap.malloc(64);
            Blocks.ALL.set(ValueLayout.JAVA_LONG, a, 0x1234_5678_9ABC_DEF0L);
            long moved = heap.realloc(a, 128);
            assertThat(Blocks.ALL.get(ValueLayout.JAVA_LONG, moved)).isEqualTo(0x1234_5678_9ABC_DEF0L);
            assertThat(heap.stats().liveBlocks()).isEqualTo(1);
            assertThat(heap.verify()).anySatisfy(d -> assertThat(d.address()).isEqualTo(dangling));
            heap.free(moved);
        }
    }

    // A reallocate from qsort's comparator, while qsort holds the segment's scope
    private static Heap heap;
    private static MemorySegment held;
    private static long newSize, alignment;
    private static final List<Throwable> THROWN = new ArrayList<>();

    static int compare(MemorySegment a, MemorySegment b) {
        try {
            heap.reallocate(held, newSize, alignment);
        } catch (RuntimeException e) {
            THROWN.add(e);
        }
        return 0;
    }

    @Test
    void aMoveRefusedWhileADowncallHoldsTheOldSegmentLeavesOnlyTheOldBlock() throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle qsort = linker.downcallHandle(linker.defaultLookup().find("qsort").orElseThrow(),
                FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
        MethodHandle cmp = MethodHandles.lookup().findStatic(CheckedFailedMoveTest.class, "compare",
                MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class));
        for (long align : new long[] {16, 64}) {
            try (Heap h = checked(); Arena arena = Arena.ofConfined()) {
                heap = h;
                THROWN.clear();
                held = h.allocate(8, 4);
                newSize = 64;
                alignment = align;
                MemorySegment stub = linker.upcallStub(cmp, FunctionDescriptor.of(JAVA_INT,
                        ADDRESS.withTargetLayout(JAVA_INT), ADDRESS.withTargetLayout(JAVA_INT)), arena);
                qsort.invokeExact(held, 2L, 4L, stub);
                assertThat(THROWN).isNotEmpty().allMatch(e -> e instanceof IllegalStateException);
                assertThat(h.stats().liveBlocks()).as("live blocks after the refused move (alignment %d)", align)
                        .isEqualTo(1);
                h.free(held);
            }
        }
    }
}
