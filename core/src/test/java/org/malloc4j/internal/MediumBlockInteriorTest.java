package org.malloc4j.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.malloc4j.InvalidFreeException;
import org.junit.jupiter.api.Test;

/**
 * The heap's directory maps a medium slab (one block of 32 to 256 KiB) by its first page alone, and finds an address
 * inside its block through the pages it marks behind it: every look-up by address must still find the block from any of
 * its pages, across a directory chunk's edge (4 MiB) too, and none must find a block given back whose pages another
 * block took since.
 */
class MediumBlockInteriorTest {
    private static HeapCore heap(long decayNanos, long spareBytes) {
        return new HeapCore("interior", 1L << 30, Long.MAX_VALUE, decayNanos, 32L << 20, 0, spareBytes);
    }

    @Test
    void everyPageOfEveryMediumBlockLeadsToItsStart() {
        HeapCore core = heap(1_000_000_000L, 1L << 20);
        try {
            List<Long> blocks = new ArrayList<>();
            // 40 KiB blocks, 10 pages each: 120 of them cross the chunk edges at 4 MiB and 8 MiB off a page boundary
            for (int i = 0; i < 120; i++) blocks.add(core.malloc(40 * 1024));
            for (long b : blocks) {
                for (long at = 8; at < 40 * 1024; at += 4096) {
                    long p = b + at;
                    assertThat(core.liveBlockContaining(p)).as("block at 0x%x, offset %d", b, at).isEqualTo(b);
                    assertThat(core.isLiveBlock(p)).isFalse();
                    assertThat(core.isFreeMemory(p)).isFalse();
                }
                assertThat(core.isLiveBlock(b)).isTrue();
            }
            long b = blocks.get(102), p = b + 5 * 4096 + 3;
            String inside = "is inside the 40960-byte block at 0x" + Long.toHexString(b) + " (offset " + (p - b) + ")";
            assertThatThrownBy(() -> core.free(p)).isInstanceOf(InvalidFreeException.class).hasMessageContaining(inside);
            assertThatThrownBy(() -> core.usableSize(p)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining(inside);
            assertThatThrownBy(() -> core.realloc(p, 100)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining(inside);
            for (long x : blocks) core.free(x);
            core.checkStructure();
        } finally {
            core.close();
        }
    }

    @Test
    void aMediumBlockGivenBackLeavesNoTraceForTheBlockThatTakesItsPages() {
        // No spare and no decay: a freed medium block's pages go back to the page layer, and to the OS, at once, and
        // merge with the free pages after them
        HeapCore core = heap(0, 0);
        try {
            long medium = core.malloc(256 * 1024);
            core.free(medium);
            long large = core.malloc(600_000); // page-run block, over the medium block's pages
            assertThat(large).isEqualTo(medium);
            long p = medium + 100_000;
            assertThat(core.liveBlockContaining(p)).isEqualTo(large);
            assertThatThrownBy(() -> core.free(p)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("is inside the 602112-byte block at 0x" + Long.toHexString(large));
            core.free(large);
            assertThat(core.liveBlockContaining(p)).isZero();
            assertThat(core.isFreeMemory(p)).isTrue();
            long small = core.malloc(1000); // a slab of small blocks there now: its every page maps to it
            assertThat(core.liveBlockContaining(small + 10)).isEqualTo(small);
            core.free(small);
            core.checkStructure();
        } finally {
            core.close();
        }
    }
}
