package org.malloc4j.internal.arena;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.malloc4j.internal.HeapCore;
import org.malloc4j.internal.small.LocalHeap;

/**
 * The arena's own size classes: every carved size fits its class, with little waste, and classes are ordered; a
 * carver lays segments out at their class sizes and validates early frees.
 */
class ChunkCarverTest {

    @Test
    void everyCarvedSizeFitsItsClassWithBoundedWaste() {
        int previous = 1;
        for (long size = 0; size <= ChunkCarver.MAX_CARVED; size++) {
            int c = ChunkCarver.classOf(size);
            int classSize = ChunkCarver.sizeOf(c);
            assertThat(c).as("class of %s", size).isBetween(1, 76).isGreaterThanOrEqualTo(previous);
            assertThat(classSize).as("size of the class of %s", size).isGreaterThanOrEqualTo((int) Math.max(size, 1));
            assertThat(classSize % 16).as("16-byte granules").isZero();
            assertThat(classSize - Math.max(size, 1)).as("waste at %s", size).isLessThan(size <= 1024 ? 16 : 256);
            if (size > 0) assertThat(ChunkCarver.classOf(classSize)).as("a class size is its own class").isEqualTo(c);
            previous = c;
        }
        assertThat(ChunkCarver.sizeOf(ChunkCarver.classOf(ChunkCarver.MAX_CARVED))).isEqualTo(ChunkCarver.MAX_CARVED);
    }

    @Test
    void segmentsAreCarvedAtTheirClassSizeAndEveryEarlyFreeIsValidated() {
        HeapCore core = new HeapCore("carver-test", 1L << 30, 1L << 30, 0, 0, 0, LocalHeap.SPARE_BYTES);
        try {
            ChunkCarver carver = new ChunkCarver(core, true);
            for (long size = 0; size <= ChunkCarver.MAX_CARVED; size++) {
                long a = carver.allocate(size, 16);
                long next = carver.allocate(16, 16);
                long step = ChunkCarver.sizeOf(ChunkCarver.classOf(size));
                // A new chunk starts when the class size does not fit: then the two are apart.
                if (next > a && next - a <= ChunkCarver.MAX_CARVED) {
                    assertThat(next - a).as("the carve of %s bytes", size).isEqualTo(step);
                }
                assertThat(carver.release(a + 8)).as("inside the segment").isEqualTo(ChunkCarver.INVALID);
                if (step > 16) assertThat(carver.release(a + 16)).as("a granule inside").isEqualTo(ChunkCarver.INVALID);
                assertThat(carver.release(next)).isEqualTo(ChunkCarver.FREED); // the last carved: un-carved
                assertThat(carver.release(a)).isEqualTo(ChunkCarver.FREED);
                assertThat(carver.release(a)).as("a second free").isEqualTo(ChunkCarver.INVALID);
                assertThat(carver.allocate(size, 16)).as("the memory freed is carved again").isEqualTo(a);
            }
            assertThat(carver.release(16)).as("outside every chunk").isEqualTo(ChunkCarver.NOT_CARVED);
            carver.freeAll(core::freeArenaBlock);
            assertThat(core.stats().liveBytes()).as("every chunk given back").isZero();
            ChunkCarver none = new ChunkCarver(core, false); // a CHECKED heap's arenas: every segment a block
            assertThat(none.carvesValid(16, 16)).isFalse();
            assertThat(none.carvesValid(0, 1)).isFalse();
            assertThat(carver.carvesValid(ChunkCarver.MAX_CARVED, 256)).isTrue();
            assertThat(carver.carvesValid(ChunkCarver.MAX_CARVED + 1, 16)).isFalse();
            assertThat(carver.carvesValid(-1, 16)).as("a negative size").isFalse();
            assertThat(carver.carvesValid(16, 0)).as("alignment 0").isFalse();
            assertThat(carver.carvesValid(16, 48)).as("not a power of two").isFalse();
            assertThat(carver.carvesValid(16, 512)).as("beyond the carved alignments").isFalse();
            assertThat(none.release(a(core))).isEqualTo(ChunkCarver.NOT_CARVED);
        } finally {
            core.close();
        }
    }

    /** @return the address of a live block of {@code core}, which no carver carved */
    private static long a(HeapCore core) {
        return core.malloc(64);
    }
}
