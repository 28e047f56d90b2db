package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * CHECKED: damage that a realloc (or a reallocate of a segment) finds is the realloc's finding. A damaged tail was
 * reported as "free found a damaged block", an aligned block's damaged marker too (after a new block had been taken
 * and given back), and a reallocate to an alignment above 16 called a damaged header "usableSize found" and left the
 * block allocated, where the same reallocate to 16 bytes freed it as realloc's.
 */
class CheckedReallocNamesItsFindingsTest {
    private static final MemorySegment ALL = Blocks.ALL;

    private static void flip(long address) {
        ALL.set(ValueLayout.JAVA_BYTE, address, (byte) ~ALL.get(ValueLayout.JAVA_BYTE, address));
    }

    @Test
    void reallocNamesADamagedTailOrMarkerAsItsOwnFinding() {
        for (int i = 0; i < 4; i++) {
            int c = i;
            try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build()) {
                long p = c < 2 ? heap.malloc(40) : heap.alignedAlloc(64, 40);
                if (c == 3) flip(p - 64); // the aligned block's marker, the first word of its 64-byte front
                else flip(p + 40);
                long newSize = c == 1 ? 0 : 80; // realloc(p, 0) is the realloc's free
                long mallocs = heap.stats().mallocCount();
                assertThatThrownBy(() -> heap.realloc(p, newSize)).as("case " + c)
                        .isInstanceOf(HeapCorruptionException.class)
                        .hasMessageStartingWith("realloc found a damaged block in heap")
                        .hasMessageContaining("(the block has been freed)")
                        .satisfies(e -> assertThat(((HeapCorruptionException) e).damage().kind())
                                .isEqualTo(c == 3 ? HeapDamage.Kind.UNDERFLOW : HeapDamage.Kind.OVERFLOW));
                assertThat(heap.stats().mallocCount()).as("case " + c + ": no new block taken").isEqualTo(mallocs);
                assertThat(heap.stats().liveBlocks()).as("case " + c).isZero();
                assertThat(heap.verify()).as("case " + c).isEmpty();
            }
        }
    }

    @Test
    void reallocateOfASegmentNamesItsFindingsAtEveryAlignment() {
        for (long alignment : new long[] {16, 64}) {
            for (boolean tail : new boolean[] {true, false}) {
                String what = "alignment " + alignment + (tail ? ", tail" : ", header");
                try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build()) {
                    MemorySegment s = heap.allocate(64);
                    flip(tail ? s.address() + 64 : s.address() - 1);
                    assertThatThrownBy(() -> heap.reallocate(s, 128, alignment)).as(what)
                            .isInstanceOf(HeapCorruptionException.class)
                            .hasMessageStartingWith("realloc found a damaged block in heap")
                            .hasMessageContaining("(the block has been freed)");
                    assertThat(heap.stats().liveBlocks()).as(what).isZero();
                    assertThat(heap.verify()).as(what).isEmpty();
                    assertThatThrownBy(() -> s.get(ValueLayout.JAVA_BYTE, 0)).as(what)
                            .isInstanceOf(IllegalStateException.class);
                }
            }
        }
    }
}
