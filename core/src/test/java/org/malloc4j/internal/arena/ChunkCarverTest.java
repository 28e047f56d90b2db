package org.malloc4j.internal.arena;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The arena's own size classes: every carved size fits its class, with little waste, and classes are ordered. */
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
}
