package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * An arena the program never closed, in the leak report: a CHECKED heap listed its segments (each a block of its
 * own), a FAST heap the blocks it carves them from, in the heap's terms: one 100-byte segment showed as a 4096-byte
 * block, a 10,000-byte one as a 10,016-byte block (its block with the arena's offset), nothing said that an arena
 * was left open, and the totals differed from CHECKED's for the same program (3 blocks against 5).
 */
class UnclosedArenaLeakReportTest {
    /** What the program leaks: an arena with three small segments and a large one, and a malloc block. */
    private static void leakAnArenaAndABlock(Heap heap) {
        Arena arena = openAndCarve(heap);
        arena.allocate(10_000);
        leakABlock(heap);
    }

    private static Arena openAndCarve(Heap heap) {
        Arena arena = heap.newArena();
        arena.allocate(100);
        arena.allocate(40);
        arena.allocate(8);
        return arena;
    }

    private static void leakABlock(Heap heap) {
        heap.malloc(200);
    }

    private static Heap heap(HeapMode mode, double rate) {
        return Heap.builder().mode(mode).trackSites(rate).jmx(false).build();
    }

    private static LeakReport reportOf(HeapMode mode, double rate) {
        try (Heap heap = heap(mode, rate)) {
            leakAnArenaAndABlock(heap);
            return heap.leaks();
        }
    }

    @Test
    void fastReportsTheSameProgramAsCheckedDoes() {
        LeakReport fast = reportOf(HeapMode.FAST, 1), checked = reportOf(HeapMode.CHECKED, 1);
        assertThat(checked.liveBlocks()).as("CHECKED: %s", checked).isEqualTo(5);
        assertThat(checked.liveBytes()).isEqualTo(100 + 40 + 8 + 10_000 + 200);
        assertThat(fast.liveBlocks()).as("FAST: %s", fast).isEqualTo(checked.liveBlocks());
        // The carved segments count their sizes rounded to the arena's 16-byte classes: 112, 48 and 16
        assertThat(fast.liveBytes()).isEqualTo(112 + 48 + 16 + 10_000 + 200);
        for (LeakReport r : new LeakReport[] {fast, checked}) {
            assertThat(r.entries()).as("%s", r).extracting(LeakReport.Entry::bytes).containsExactly(200L);
            assertThat(r.entries().getFirst().site().getFirst().getMethodName()).isEqualTo("leakABlock");
            assertThat(r.unattributedBlocks()).isZero();
            assertThat(r.unattributedBytes()).isZero();
            assertThat(r.arenas()).hasSize(1);
            LeakReport.UnclosedArena a = r.arenas().getFirst();
            assertThat(a.segments()).isEqualTo(4);
            assertThat(a.bytes()).isEqualTo(r.liveBytes() - 200);
            assertThat(a.arena()).contains("confined arena").contains(Thread.currentThread().getName());
            // Where its first segment was allocated, in both modes
            assertThat(a.site().getFirst().getMethodName()).isEqualTo("openAndCarve");
            assertThat(r.toString()).contains("1 arena(s) not closed").contains("arena not closed, confined arena")
                    .contains("4 live segment(s)").doesNotContain("4096 bytes,").doesNotContain("10016 bytes,");
        }
        // What the arena holds of the heap, in the heap's own terms: a 4 KiB chunk, and the large segment's block
        // with the arena's 16-byte offset (FAST); the segments' blocks (CHECKED)
        assertThat(fast.arenas().getFirst().heldBytes()).isEqualTo(4096 + 10_016);
        assertThat(checked.arenas().getFirst().heldBytes()).isEqualTo(checked.liveBytes() - 200);
    }

    /** Without recorded sites the arena is reported all the same, its figures its own, only its site unknown. */
    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void anArenaIsReportedWithoutSites(HeapMode mode) {
        LeakReport r = reportOf(mode, 0);
        assertThat(r.liveBlocks()).as("%s", r).isEqualTo(5);
        assertThat(r.entries()).isEmpty();
        assertThat(r.unattributedBlocks()).isEqualTo(1);
        assertThat(r.unattributedBytes()).isEqualTo(200);
        assertThat(r.arenas()).singleElement().satisfies(a -> {
            assertThat(a.segments()).isEqualTo(4);
            assertThat(a.site()).isEmpty();
        });
        assertThat(r.toString()).contains("no live block has a recorded allocation site")
                .contains("4 live segment(s)");
    }

    /**
     * An arena whose every segment was freed early still holds its chunk until it is closed: a leak of the heap's
     * memory, reported as the arena with no live segment, the report not empty.
     */
    @Test
    void anArenaWithNoLiveSegmentStillHoldsItsChunk() {
        try (Heap heap = heap(HeapMode.FAST, 1)) {
            Arena arena = heap.newArena();
            heap.free(arena.allocate(100));
            LeakReport r = heap.leaks();
            assertThat(r.liveBlocks()).as("%s", r).isZero();
            assertThat(r.isEmpty()).isFalse();
            assertThat(r.arenas()).singleElement().satisfies(a -> {
                assertThat(a.segments()).isZero();
                assertThat(a.heldBytes()).isEqualTo(4096);
            });
            arena.close();
            assertThat(heap.leaks().isEmpty()).isTrue();
            assertThat(heap.leaks().arenas()).isEmpty();
        }
    }

    /** An open arena that holds nothing of the heap is no leak of its memory, and an arena closed is none at all. */
    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void closedAndEmptyArenasAreNotReported(HeapMode mode) {
        try (Heap heap = heap(mode, 1); Arena unused = heap.newArena()) {
            try (Arena closed = heap.newSharedArena()) {
                closed.allocate(100);
                closed.allocate(100_000);
            }
            assertThat(heap.leaks().isEmpty()).as("%s", heap.leaks()).isTrue();
            assertThat(unused.scope().isAlive()).isTrue();
        }
    }

    /** A shared arena, and a confined one read from another thread (a monitoring thread's report), alike. */
    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void sharedArenasAndOtherThreadsReportsCountTheSegments(HeapMode mode) throws InterruptedException {
        try (Heap heap = heap(mode, 1)) {
            Arena shared = heap.newSharedArena();
            MemorySegment early = shared.allocate(64);
            shared.allocate(5_000);
            shared.allocate(32);
            shared.allocate(5_000);
            heap.free(early);
            Arena confined = heap.newArena();
            confined.allocate(16);
            AtomicReference<LeakReport> seen = new AtomicReference<>();
            Thread other = Thread.ofPlatform().start(() -> seen.set(heap.leaks()));
            other.join();
            LeakReport r = seen.get();
            assertThat(r.liveBlocks()).as("%s", r).isEqualTo(4);
            assertThat(r.liveBytes()).isEqualTo(10_000 + 32 + 16);
            assertThat(r.arenas()).extracting(LeakReport.UnclosedArena::segments).containsExactly(3L, 1L);
            assertThat(r.arenas().getFirst().arena()).contains("shared arena");
            assertThat(r.entries()).isEmpty();
        }
    }

    /** close() of a failOnLeak heap throws the same report: the arena not closed, and the program's block. */
    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void closeFailsOnTheArenaNotClosed(HeapMode mode) {
        Heap heap = Heap.builder().mode(mode).trackSites(1).failOnLeak(true).jmx(false).build();
        leakAnArenaAndABlock(heap);
        assertThatThrownBy(heap::close).isInstanceOfSatisfying(HeapLeakException.class, e -> {
            LeakReport r = e.report();
            assertThat(r.liveBlocks()).isEqualTo(5);
            assertThat(r.arenas()).singleElement().extracting(LeakReport.UnclosedArena::segments).isEqualTo(4L);
            assertThat(e.getMessage()).contains("arena not closed");
        });
    }
}
