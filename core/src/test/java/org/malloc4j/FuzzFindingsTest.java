package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.ValueLayout;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;

/** Deterministic reductions of what the fuzz campaign ({@link FuzzCampaign}) found. */
class FuzzFindingsTest {

    /**
     * CHECKED: a one-bit underflow that sets bit 62 of a live block's header word (byte p - 9, bit 6: the FREED
     * bit, which the header's check word leaves out) is damage to the front red zone: the block's free must throw
     * HeapCorruptionException naming the block, not call it a double free, and leave it allocated. (verify() takes
     * it for a free under way, which it cannot tell from it without a clock: docs/safety.md.)
     */
    @Test
    void anUnderflowThatSetsTheFreedBitIsReported() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).reserve(64L << 20).build()) {
            long p = heap.malloc(100);
            byte b = Blocks.ALL.get(ValueLayout.JAVA_BYTE, p - 9);
            Blocks.ALL.set(ValueLayout.JAVA_BYTE, p - 9, (byte) (b | 0x40));
            SoftAssertions soft = new SoftAssertions();
            soft.assertThatThrownBy(() -> heap.free(p)).as("free of the damaged block")
                    .isInstanceOf(HeapCorruptionException.class).hasMessageContaining(Long.toHexString(p));
            soft.assertThat(heap.stats().liveBlocks()).as("left allocated").isOne();
            soft.assertAll();
        }
    }
    /**
     * FAST: an address in the last page of a page-run block is refused, but the message must name the block that
     * holds it. When that last page was once the first page of another run (a block freed and merged since), the
     * stale run-start word of the old run's last page, left by the merge, makes the message name the last page as
     * the block's start.
     */
    @Test
    void anAddressInTheLastPageOfARunIsSaidToBeInsideTheRightBlock() {
        long page = 4096;
        try (Heap heap = Heap.builder().jmx(false).reserve(64L << 20).decay(java.time.Duration.ofHours(1))
                .releaseThreshold(64L << 20).build()) {
            long x = heap.malloc(255 * page);
            long a = heap.malloc(256 * page);
            long z = heap.malloc(100 * page);
            long w = heap.malloc(100 * page);
            assertThat(a).isEqualTo(x + 255 * page);
            assertThat(z).isEqualTo(a + 256 * page);
            heap.free(z); // dirty [z, z + 100 pages)
            heap.free(a); // merged with it: a's last page becomes interior, its run-start word left as a's page
            heap.free(x); // merged: one dirty run from x
            long b = heap.malloc(256 * page); // the first 256 pages of that run: b's last page is a's first
            assertThat(b).isEqualTo(x);
            long q = b + 255 * page + 16;
            assertThatThrownBy(() -> heap.usableSize(q)).isInstanceOf(InvalidFreeException.class)
                    .hasMessageContaining("block at 0x" + Long.toHexString(b) + " (offset " + (q - b) + ")");
            heap.free(b);
            heap.free(w);
        }
    }
    /**
     * FAST: an arena's refusal of a segment beyond the limit names the program's request, as CHECKED's does, not the
     * arena's block of the request plus its offset (16 bytes, or the alignment).
     */
    @Test
    void anArenaRefusalNamesTheSegmentSizeAskedFor() {
        long size = 64L << 20;
        SoftAssertions soft = new SoftAssertions();
        for (HeapMode mode : HeapMode.values()) {
            for (long alignment : new long[] {16, 4096}) {
                try (Heap h = Heap.builder().mode(mode).limit(8L << 20).jmx(false).build();
                        java.lang.foreign.Arena a = h.newArena()) {
                    Throwable t = org.assertj.core.api.Assertions.catchThrowable(() -> a.allocate(size, alignment));
                    assertThat(t).as("%s, alignment %d", mode, alignment).isInstanceOf(HeapExhaustedException.class);
                    soft.assertThat(t).as("%s, alignment %d", mode, alignment)
                            .hasMessageContaining("cannot allocate " + size + " bytes");
                    soft.assertThat(((HeapExhaustedException) t).requested()).as("%s, alignment %d", mode, alignment)
                            .isEqualTo(size);
                }
            }
        }
        // a small segment carved from a chunk: the chunk is refused, the segment must be named
        try (Heap h = Heap.builder().limit(4095).jmx(false).build(); java.lang.foreign.Arena a = h.newArena()) {
            Throwable t = org.assertj.core.api.Assertions.catchThrowable(() -> a.allocate(100, 16));
            assertThat(t).as("carved segment").isInstanceOf(HeapExhaustedException.class);
            soft.assertThat(t).as("carved segment").hasMessageContaining("cannot allocate 100 bytes");
            soft.assertThat(((HeapExhaustedException) t).requested()).as("carved segment").isEqualTo(100);
        }
        soft.assertAll();
    }
}
