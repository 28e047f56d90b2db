package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The bytes between a page-run block's end and its last page's end are the block's (internal waste: no malloc can
 * have them, and they go back with the block), so {@code freeBytes} leaves them out and
 * {@code externalFragmentation} (DESIGN.md: {@code 1 - largest free extent / total free bytes}) does not read them as
 * scattered free memory. Before, a heap holding one 300,001-byte block and nothing free read 1.0, "all free memory
 * in small holes".
 */
class PageRoundingIsNotFreeTest {
    private static final long MiB = 1L << 20;

    private static Heap heap() {
        return Heap.builder().name("rounding").decay(Duration.ofHours(1)).build();
    }

    @Test
    void oneLargeBlockAndNothingFreeIsNotFragmented() {
        try (Heap h = heap()) {
            long a = h.malloc(300_001);
            HeapStats s = h.stats();
            assertThat(s.committedBytes()).isEqualTo(303_104); // 74 pages: 3,103 bytes of rounding
            assertThat(s.freeBytes()).isZero();
            assertThat(s.largestFreeBlock()).isZero();
            assertThat(s.externalFragmentation()).isZero();
            h.free(a);
        }
    }

    @Test
    void alignedLargeBlockAndNothingFreeIsNotFragmented() {
        try (Heap h = heap()) {
            long a = h.alignedAlloc(MiB, 300_001);
            HeapStats s = h.stats();
            assertThat(s.freeBytes()).isZero();
            assertThat(s.externalFragmentation()).isZero();
            h.free(a);
        }
    }

    @Test
    void oneFreeRunBetweenLargeBlocksIsOneExtent() {
        try (Heap h = heap()) {
            long a = h.malloc(MiB + 1), b = h.malloc(MiB + 1), c = h.malloc(MiB + 1);
            h.free(b);
            HeapStats s = h.stats();
            assertThat(s.freeBytes()).isEqualTo(s.largestFreeBlock()).isEqualTo(MiB + 4096);
            assertThat(s.externalFragmentation()).isZero();
            h.free(a);
            h.free(c);
        }
    }

    @Test
    void roundingFollowsReallocInPlaceAndMoves() {
        try (Heap h = heap()) {
            long a = h.malloc(300_001);
            long keep = h.malloc(MiB + 1); // after a: a grows in place into free pages, then is boxed in
            h.free(keep);
            a = h.realloc(a, 600_001); // grown in place
            assertThat(h.stats().freeBytes()).as("grown in place").isEqualTo(h.stats().retainedBytes());
            a = h.realloc(a, 400_001); // shrunk in place
            assertThat(h.stats().freeBytes()).as("shrunk in place").isEqualTo(h.stats().retainedBytes());
            long wall = h.malloc(MiB + 1);
            a = h.realloc(a, 3 * MiB + 1); // moved
            HeapStats s = h.stats();
            assertThat(s.freeBytes()).as("moved").isEqualTo(s.retainedBytes());
            h.free(a);
            h.free(wall);
            h.trim();
            assertThat(h.stats().freeBytes()).isZero();
        }
    }
}
