package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * The FREED bit of a CHECKED header (bit 6 of the byte 9 before the block) is the one bit its check word leaves out:
 * a free sets it with a compare-and-set of the header word alone. Found by a review on 2026-12-07: a write after
 * free that cleared it on a quarantined block made the header read live, and the block left the quarantine without
 * a word. (On a live block, the bit set by an underflow makes its free fail as a double free: loud, but named as
 * such, as docs/safety.md says.)
 */
class CheckedFreedBitTest {
    private static void flipFreedBit(long p) {
        long at = p - 9;
        Blocks.ALL.set(ValueLayout.JAVA_BYTE, at, (byte) (Blocks.ALL.get(ValueLayout.JAVA_BYTE, at) ^ (1 << 6)));
    }

    @Test
    void aWriteAfterFreeIntoTheFreedBitIsFoundWhenTheBlockLeavesQuarantine() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).quarantine(100).jmx(false).build()) {
            long p = heap.malloc(64);
            heap.free(p);
            flipFreedBit(p); // the freed block's header now reads live
            long q = heap.malloc(64);
            Throwable t = catchThrowable(() -> heap.free(q)); // room for one block: pushes p out of the quarantine
            assertThat(t).isInstanceOf(HeapCorruptionException.class);
            HeapDamage d = ((HeapCorruptionException) t).damage();
            assertThat(d.address()).isEqualTo(p);
            assertThat(d.kind()).isEqualTo(HeapDamage.Kind.WRITE_AFTER_FREE);
            assertThat(d.offset()).isEqualTo(-9);
            assertThat(heap.stats().liveBlocks()).isZero();
        }
    }

    /**
     * verify() names the same damage as the block's eviction does: it reported the block as overflowed at its size,
     * reading its (intact) freed tail against a live block's, where the program wrote into its header after the free.
     */
    @Test
    void verifyReportsAWriteAfterFreeIntoTheFreedBitAsSuch() {
        Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build();
        long p = heap.malloc(64);
        heap.free(p);
        flipFreedBit(p);
        assertThat(heap.verify()).singleElement().satisfies(d -> {
            assertThat(d.address()).isEqualTo(p);
            assertThat(d.kind()).isEqualTo(HeapDamage.Kind.WRITE_AFTER_FREE);
            assertThat(d.offset()).isEqualTo(-9);
        });
        assertThat(catchThrowable(heap::close)).isInstanceOf(HeapCorruptionException.class); // the eviction's report
    }

    @Test
    void anUnderflowIntoTheFreedBitOfALiveBlockMakesItsFreeFail() {
        try (Heap heap = Heap.builder().mode(HeapMode.CHECKED).jmx(false).build()) {
            long p = heap.malloc(24);
            flipFreedBit(p);
            // Damage, not a double free: the block's tail is a live block's (FuzzFindingsTest has verify()'s side)
            assertThat(catchThrowable(() -> heap.free(p))).isInstanceOf(HeapCorruptionException.class);
            assertThat(heap.stats().liveBlocks()).as("left allocated").isOne();
            flipFreedBit(p); // mended: the block frees as any other
            heap.free(p);
            assertThat(heap.stats().liveBlocks()).isZero();
        }
    }
}
