package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.malloc4j.internal.arena.HeapArena;

/** Arenas at their edges: null segments in their scope, closed shared arenas, CHECKED damage that hides a block. */
class ArenaEdgeCasesTest {
    /** Wipes the {@code bytes} bytes before {@code address}: an underflow of that many bytes. */
    private static void underflow(long address, int bytes) {
        MemorySegment.ofAddress(address - bytes).reinterpret(bytes).fill((byte) 0);
    }

    /**
     * A closed shared arena must refuse allocate with IllegalStateException, as the JDK's arenas do, whatever the
     * size: one that is a heap block of its own was taken from the heap first, so a size the heap cannot hold threw
     * HeapExhaustedException instead.
     */
    @Test
    void aClosedSharedArenaRefusesEveryAllocateWithIllegalStateException() {
        try (Heap heap = Heap.builder().limit(1 << 20).jmx(false).build()) {
            Arena arena = heap.newSharedArena();
            arena.close();
            assertThatThrownBy(() -> arena.allocate(16, 8)).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> arena.allocate(8 << 20, 16)).as("over the heap's limit")
                    .isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> arena.allocate(Long.MAX_VALUE, 1)).isInstanceOf(IllegalStateException.class);
        }
    }

    /**
     * CHECKED: closing an arena goes on past a damaged block (FreeEach), but only past a HeapCorruptionException.
     * An underflow that wipes the whole front zone of a 64-aligned segment (its marker and header) makes the free of
     * its block throw InvalidFreeException, which stops the close: the arena's other blocks are never freed.
     */
    @Test
    void aCheckedArenaFreesItsOtherBlocksWhenOneFrontZoneIsWiped() {
        for (int victim : new int[] {3, 17, 29}) {
            try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build()) {
                Arena arena = heap.newArena();
                List<MemorySegment> all = new ArrayList<>();
                for (int i = 0; i < 32; i++) all.add(arena.allocate(64, 64));
                underflow(all.get(victim).address(), 64);
                assertThatThrownBy(arena::close).isInstanceOf(RuntimeException.class);
                assertThat(heap.stats().liveBlocks()).as("blocks left allocated by the closed arena (victim #%d)",
                        victim).isLessThanOrEqualTo(1);
            }
        }
    }

    /**
     * CHECKED: heap.free(segment) of such a segment: the arena forgets the block, then the heap refuses to free it
     * ("not the start of a live block"), so the block stays allocated for good, even after the arena closes.
     * A segment whose damage is found (a 16-aligned one, or 16 bytes wiped) is freed all the same, with a
     * HeapCorruptionException.
     */
    @Test
    void aCheckedArenaSegmentWithItsFrontZoneWipedIsNotLostByAnEarlyFree() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build()) {
            Arena arena = heap.newArena();
            MemorySegment s = arena.allocate(64, 64);
            underflow(s.address(), 64);
            assertThatThrownBy(() -> heap.free(s)).isInstanceOf(HeapCorruptionException.class);
            try {
                arena.close();
            } catch (HeapCorruptionException reported) {
                // the damage, if the arena kept the block
            }
            assertThat(heap.stats().liveBlocks()).as("the damaged segment's block, lost").isZero();
        }
    }

    /**
     * heap.free(segment) of a segment at address 0 in an arena's scope (a NULL pointer from C attached to the arena
     * with reinterpret(size, arena, cleanup), the FFM idiom) is refused, but AddressMap.remove(0) takes the first
     * empty slot for key 0 and decrements the map's size all the same: the arena's count drops by one each time.
     */
    @Test
    void refusingANullSegmentInAnArenasScopeLeavesTheArenaAsItWas() {
        try (Heap heap = Heap.builder().jmx(false).build()) {
            Arena arena = heap.newArena();
            for (int i = 0; i < 3; i++) arena.allocate(5000, 16); // blocks of their own: in the arena's AddressMap
            MemorySegment nul = MemorySegment.NULL.reinterpret(8, arena, null);
            for (int i = 0; i < 2; i++) {
                try {
                    heap.free(nul); // a no-op, as free(0), or refused: either way nothing changes
                } catch (InvalidFreeException refused) {
                    // fine
                }
            }
            assertThat(((HeapArena) arena).liveSegments()).isEqualTo(3);
            arena.close();
        }
    }

    /**
     * The same, repeated: the map's size falls below its entries, its shrink rule fires, and the rehash into a table
     * smaller than its entries spins for ever inside heap.free (on the 33rd refused free, for 40 blocks).
     */
    @Test
    void refusedNullSegmentsInAnArenasScopeDoNotHangTheHeap() {
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            try (Heap heap = Heap.builder().jmx(false).build()) {
                Arena arena = heap.newArena(); // confined to the timeout thread, which runs all of it
                for (int i = 0; i < 40; i++) arena.allocate(5000, 16);
                MemorySegment nul = MemorySegment.NULL.reinterpret(8, arena, null);
                for (int i = 0; i < 40; i++) {
                    try {
                        heap.free(nul);
                    } catch (InvalidFreeException refused) {
                        // fine
                    }
                }
                // Not only no hang: the arena still holds its 40 blocks, and its close gives every one back
                assertThat(((HeapArena) arena).liveSegments()).isEqualTo(40);
                arena.close();
                assertThat(heap.stats().liveBlocks()).isZero();
            }
        });
    }
}
