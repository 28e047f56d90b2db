package org.malloc4j;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tuple;
import org.malloc4j.internal.arena.HeapArena;

/**
 * Model-based property of the heap arenas: random sequences of allocations (carved sizes and alignments, and
 * larger or more aligned ones that are heap blocks of their own), early frees, and frees that must be refused
 * (a segment freed already, a slice inside a live one), checked against a model of the live segments.
 *
 * <p>After every step: a new segment has the exact size and the alignment asked for and overlaps no live segment; a
 * refused free throws {@link InvalidFreeException} and changes neither the arena's count nor the heap's statistics.
 * At the end every live segment still holds its own fill byte at both ends, and closing the arena leaves the heap
 * with nothing live.
 */
class HeapArenaProperties {

    enum Kind { ALLOCATE, FREE, FREE_AGAIN, FREE_INSIDE }

    /** One step: what to do, a size, an alignment, and a number that picks a segment. */
    record Op(Kind kind, long size, long alignment, int pick) {
        @Override
        public String toString() {
            return switch (kind) {
                case ALLOCATE -> "allocate(" + size + ", " + alignment + ")";
                case FREE -> "free(#" + pick + ")";
                case FREE_AGAIN -> "freeAgain(#" + pick + ")";
                case FREE_INSIDE -> "freeInside(#" + pick + ")";
            };
        }
    }

    private record Live(MemorySegment segment, byte fill) {}

    @Property(tries = 150, shrinking = ShrinkingMode.BOUNDED)
    void everyArenaOperationAgreesWithTheModel(@ForAll boolean shared, @ForAll("ops") List<Op> ops) {
        try (Heap heap = Heap.builder().name("arena-model").build()) {
            Arena arena = shared ? heap.newSharedArena() : heap.newArena();
            List<Live> live = new ArrayList<>();
            List<MemorySegment> freed = new ArrayList<>();
            TreeMap<Long, Long> extents = new TreeMap<>(); // address -> end, of the live segments
            byte next = 1;
            for (Op op : ops) {
                switch (op.kind()) {
                    case ALLOCATE -> {
                        MemorySegment s = arena.allocate(op.size(), op.alignment());
                        assertThat(s.byteSize()).as("%s", op).isEqualTo(op.size());
                        assertThat(s.address() % op.alignment()).as("%s", op).isZero();
                        assertNoOverlap(extents, s, op);
                        extents.put(s.address(), s.address() + Math.max(1, s.byteSize()));
                        s.fill(next);
                        live.add(new Live(s, next));
                        next = (byte) (next == 127 ? 1 : next + 1);
                    }
                    case FREE -> {
                        if (live.isEmpty()) continue;
                        Live l = live.remove(op.pick() % live.size());
                        checkFill(l, op);
                        heap.free(l.segment());
                        extents.remove(l.segment().address());
                        freed.add(l.segment());
                    }
                    case FREE_AGAIN -> {
                        if (freed.isEmpty()) continue;
                        MemorySegment s = freed.get(op.pick() % freed.size());
                        if (extents.containsKey(s.address())) continue; // its memory is a live segment again
                        assertRefused(heap, arena, s, op);
                    }
                    case FREE_INSIDE -> {
                        if (live.isEmpty()) continue;
                        MemorySegment s = live.get(op.pick() % live.size()).segment();
                        if (s.byteSize() < 2) continue;
                        long offset = 1 + (op.pick() & 0x7FFF_FFFFL) % (s.byteSize() - 1);
                        assertRefused(heap, arena, s.asSlice(offset), op);
                    }
                }
                assertThat(((HeapArena) arena).liveSegments()).as("after %s", op).isEqualTo(live.size());
            }
            for (Live l : live) checkFill(l, null);
            arena.close();
            assertThat(heap.stats().liveBytes()).isZero();
            assertThat(heap.stats().liveBlocks()).isZero();
        }
    }

    private static void assertNoOverlap(TreeMap<Long, Long> extents, MemorySegment s, Op op) {
        long start = s.address();
        long end = start + Math.max(1, s.byteSize());
        Map.Entry<Long, Long> below = extents.floorEntry(start);
        if (below != null) {
            assertThat(below.getValue()).as("%s overlaps the segment below", op).isLessThanOrEqualTo(start);
        }
        Map.Entry<Long, Long> above = extents.ceilingEntry(start);
        if (above != null) {
            assertThat(above.getKey()).as("%s overlaps the segment above", op).isGreaterThanOrEqualTo(end);
        }
    }

    private static void assertRefused(Heap heap, Arena arena, MemorySegment s, Op op) {
        int before = ((HeapArena) arena).liveSegments();
        List<Long> stats = Blocks.state(heap.stats());
        assertThatThrownBy(() -> heap.free(s)).as("%s", op).isInstanceOf(InvalidFreeException.class);
        assertThat(((HeapArena) arena).liveSegments()).as("%s", op).isEqualTo(before);
        assertThat(Blocks.state(heap.stats())).as("%s", op).isEqualTo(stats);
    }

    private static void checkFill(Live l, Op op) {
        MemorySegment s = l.segment();
        if (s.byteSize() == 0) return;
        assertThat(s.get(JAVA_BYTE, 0)).as("first byte, at %s", op).isEqualTo(l.fill());
        assertThat(s.get(JAVA_BYTE, s.byteSize() - 1)).as("last byte, at %s", op).isEqualTo(l.fill());
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Long> sizes = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.longs().between(0, 256)),
                Tuple.of(3, Arbitraries.longs().between(257, 4096)),
                Tuple.of(1, Arbitraries.longs().between(4097, 70_000)));
        Arbitrary<Long> alignments = Arbitraries.integers().between(0, 12).map(b -> 1L << b);
        Arbitrary<Kind> kinds = Arbitraries.frequency(
                Tuple.of(5, Kind.ALLOCATE), Tuple.of(3, Kind.FREE),
                Tuple.of(1, Kind.FREE_AGAIN), Tuple.of(1, Kind.FREE_INSIDE));
        Arbitrary<Op> op = Combinators.combine(kinds, sizes, alignments, Arbitraries.integers().between(0, 1 << 20))
                .as(Op::new);
        return op.list().ofMinSize(1).ofMaxSize(400);
    }
}
