package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * A small block resized within its slab by the thread that owns its cache, or by another: it stays, keeps its bytes,
 * and the heap's counts follow; the cases that are not a resize in place (a shrink to a smaller class, a size of 0)
 * and the addresses that are no live block (freed, inside another block, held by an arena, on a closed heap) are
 * served or refused as the whole realloc serves them. Written for an owner's fast path of in-place realloc, tried on
 * 2026-12-08 and not kept (level on the realloc-growth replay, docs/benchmarks.md): the semantics stay pinned.
 */
class InPlaceReallocTest {

    @Test
    void aSmallBlockGrowsAndShrinksInPlaceWithExactCounts() {
        try (Heap h = Heap.builder().jmx(false).build()) {
            long p = h.malloc(100);
            MemorySegment.ofAddress(p).reinterpret(100).fill((byte) 7);
            for (long size = 97; size <= 112; size++) {
                assertThat(h.realloc(p, size)).as("resized in place to %d", size).isEqualTo(p);
                assertThat(h.stats().liveBytes()).isEqualTo(size);
            }
            assertThat(MemorySegment.ofAddress(p).reinterpret(97).get(ValueLayout.JAVA_BYTE, 96)).isEqualTo((byte) 7);
            assertThat(h.stats().peakLiveBytes()).isEqualTo(112);
            long moved = h.realloc(p, 16); // far below its class: moves to a block of 16 bytes
            assertThat(moved).isNotEqualTo(p);
            assertThat(h.stats().liveBytes()).isEqualTo(16);
            assertThat(h.realloc(moved, 0)).isZero(); // frees
            assertThat(h.stats().liveBytes()).isZero();
            assertThat(h.stats().liveBlocks()).isZero();
        }
    }

    @Test
    void anotherThreadsBlockResizedInPlaceCountsInTheHeapsTotals() throws Exception {
        try (Heap h = Heap.builder().jmx(false).build()) {
            long mine = h.malloc(64); // the heap's first thread: its door is open from here on
            long[] theirs = new long[1];
            Thread t = Thread.ofPlatform().start(() -> theirs[0] = h.malloc(200));
            t.join();
            assertThat(h.realloc(theirs[0], 220)).isEqualTo(theirs[0]);
            assertThat(h.usableSize(theirs[0])).isGreaterThanOrEqualTo(220);
            assertThat(h.stats().liveBytes()).isEqualTo(64 + 220);
            h.free(theirs[0]);
            h.free(mine);
            assertThat(h.stats().liveBytes()).isZero();
        }
    }

    @Test
    void whatIsNotALiveBlockIsRefusedAndNothingChanges() {
        try (Heap h = Heap.builder().jmx(false).build(); Arena arena = h.newArena()) {
            MemorySegment s = arena.allocate(64); // the arena's chunk: a block of the heap's that the arena holds
            long p = h.malloc(100), q = h.malloc(100);
            h.free(p);
            long live = h.stats().liveBytes();
            assertThatThrownBy(() -> h.realloc(p, 104)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("already freed");
            assertThatThrownBy(() -> h.realloc(q + 16, 104)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("inside");
            assertThatThrownBy(() -> h.realloc(s.address(), 70)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("arenas hold");
            assertThatThrownBy(() -> h.realloc(q, -1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("-1");
            assertThat(h.stats().liveBytes()).as("unchanged").isEqualTo(live);
            assertThat(h.realloc(q, 110)).isEqualTo(q);
            h.free(q);
        }
    }

    @Test
    void aClosedHeapRefusesTheRealloc() {
        Heap h = Heap.builder().jmx(false).build();
        long p = h.malloc(100);
        h.close();
        assertThatThrownBy(() -> h.realloc(p, 104)).isInstanceOf(IllegalStateException.class);
    }
}
