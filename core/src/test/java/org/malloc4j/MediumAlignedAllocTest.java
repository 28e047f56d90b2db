package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Medium blocks (32-256 KiB) from alignedAlloc come from the cached size classes, aligned up to a page. */
class MediumAlignedAllocTest {
    @Test
    void mediumAlignedAllocationsAreAligned() {
        try (Heap heap = Heap.builder().name("medium").jmx(false).build()) {
            for (long a = 32; a <= 4096; a <<= 1) {
                for (long s = 32 * 1024 + 1; s <= 256 * 1024; s += 4093) {
                    long p = heap.alignedAlloc(a, s);
                    assertThat(p % a).isZero();
                    assertThat(heap.usableSize(p)).isGreaterThanOrEqualTo(s);
                    heap.free(p);
                }
            }
            assertThat(heap.stats().liveBlocks()).isZero();
        }
    }

    @Test
    void aPageAlignedMediumBlockIsTheBlockMallocWouldGive() {
        try (Heap heap = Heap.builder().jmx(false).build()) {
            long p = heap.alignedAlloc(4096, 64 * 1024);
            assertThat(heap.snapshot().classes()).extracting(HeapSnapshot.SizeClassUsage::blockSize)
                    .as("a slab of the 64 KiB class, not a page run").containsExactly(64 * 1024);
            heap.free(p);
        }
    }
}
