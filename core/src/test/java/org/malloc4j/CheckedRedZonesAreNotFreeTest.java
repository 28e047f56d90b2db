package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * In CHECKED mode every block has red zones (its front, 16 bytes or its alignment's up to a page, and a 16-byte
 * tail): bytes of the block's until it is freed, which no malloc can have, so neither live nor free, as a block's
 * rounding is ({@link PageRoundingIsNotFreeTest}, {@link MediumRoundingIsNotFreeTest}). Before, they counted in
 * {@code freeBytes}: a CHECKED heap holding one block, nothing ever freed, read an external fragmentation of 1.0 (32
 * bytes "free", none of them in a free run). A block in quarantine is free to the program (it leaves when memory is
 * short), its red zones with it.
 */
class CheckedRedZonesAreNotFreeTest {
    private static final int PAGE = 4096;

    private static Heap heap() {
        return Heap.builder().name("red-zones").mode(HeapMode.CHECKED).decay(Duration.ofHours(1)).build();
    }

    private static long pages(long bytes) {
        return (bytes + PAGE - 1) / PAGE * PAGE;
    }

    @Test
    void onePageRunBlockAndNothingFreedIsNotFragmented() {
        try (Heap h = heap()) {
            long a = h.malloc(300_000);
            HeapStats s = h.stats();
            assertThat(s.liveBytes()).isEqualTo(300_000);
            assertThat(s.committedBytes()).isEqualTo(pages(16 + 300_000 + 16));
            assertThat(s.freeBytes()).isZero();
            assertThat(s.externalFragmentation()).isZero();
            h.free(a);
        }
    }

    @Test
    void oneMediumBlockOfAWholeClassAndNothingFreedIsNotFragmented() {
        try (Heap h = heap()) {
            long a = h.malloc(36 * 1024 - 32); // with its red zones, exactly the 36 KiB class
            h.trim();
            HeapStats s = h.stats();
            assertThat(s.committedBytes()).isEqualTo(36 * 1024);
            assertThat(s.freeBytes()).isZero();
            assertThat(s.externalFragmentation()).isZero();
            h.free(a);
        }
    }

    @Test
    void alignedBlocksFrontsAreTheirs() {
        try (Heap h = heap()) {
            long a = h.alignedAlloc(PAGE, 300_000); // a front of a page
            long b = h.alignedAlloc(1 << 16, 300_000); // a front of a page too, the run aligned one page in
            long c = h.alignedAlloc(256, 300_000); // a front of 256 bytes
            HeapStats s = h.stats();
            assertThat(s.liveBytes()).isEqualTo(3 * 300_000);
            assertThat(s.freeBytes()).isEqualTo(s.retainedBytes()).isEqualTo(s.largestFreeBlock());
            assertThat(s.externalFragmentation()).isZero();
            h.free(b);
            h.free(a);
            h.free(c);
        }
    }

    @Test
    void anArenasAlignedSegmentsFrontIsTheirs() {
        try (Heap h = heap()) {
            try (java.lang.foreign.Arena arena = h.newArena()) {
                arena.allocate(300_000, PAGE); // a block of its own, behind a front of a page
                HeapStats s = h.stats();
                assertThat(s.liveBytes()).isEqualTo(300_000);
                assertThat(s.freeBytes()).isZero();
            }
            HeapStats s = h.stats();
            assertThat(s.liveBytes()).isZero();
            assertThat(s.committedBytes()).isEqualTo(pages(4096 + 300_000 + 16));
            // Its block waits in quarantine, free to the program with its red zones (its page rounding is the
            // engine's block's until it leaves)
            assertThat(s.freeBytes()).isEqualTo(4096 + 300_000 + 16);
        }
    }

    @Test
    void aQuarantinedBlockIsFreeWithItsRedZones() {
        try (Heap h = heap()) {
            long a = h.malloc(300_000), b = h.malloc(300_000);
            h.free(b); // waits in quarantine
            HeapStats s = h.stats();
            assertThat(s.liveBytes()).isEqualTo(300_000);
            assertThat(s.committedBytes()).isEqualTo(2 * pages(300_032));
            assertThat(s.freeBytes()).as("b and its red zones").isEqualTo(300_032);
            h.free(a);
        }
    }

    @Test
    void redZonesLeaveWithTheirBlocks() {
        try (Heap h = Heap.builder().name("red-zones").mode(HeapMode.CHECKED).quarantine(0)
                .decay(Duration.ofHours(1)).build()) {
            // Page runs only, and no quarantine: every free byte is in a free page run
            long[] blocks = new long[24];
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = i % 2 == 0 ? h.malloc(300_000 + i) : h.alignedAlloc(1L << (5 + i % 13), 300_000 + i);
            }
            HeapStats s = h.stats();
            assertThat(s.freeBytes()).as("all allocated").isEqualTo(s.retainedBytes());
            for (int i = 0; i < blocks.length; i += 3) h.free(blocks[i]);
            s = h.stats();
            assertThat(s.freeBytes()).as("a third freed").isEqualTo(s.retainedBytes());
            for (int i = 0; i < blocks.length; i += 3) blocks[i] = h.alignedAlloc(1L << (4 + i % 14), 300_000 + i);
            s = h.stats();
            assertThat(s.freeBytes()).as("allocated again").isEqualTo(s.retainedBytes());
            for (long p : blocks) h.free(p);
            h.trim();
            s = h.stats();
            assertThat(s.committedBytes()).isZero();
            assertThat(s.freeBytes()).isZero();
        }
    }
}
