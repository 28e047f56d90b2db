package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An aligned block's front starts with a marker word (at its engine block, {@code p - front}) that lets a walk find
 * {@code p}. An overflow of the block before it by 17 to 24 bytes (just past that block's 16-byte tail canary) lands
 * on the marker alone: the aligned block's header, 16 bytes before {@code p}, stays intact.
 */
class CheckedAlignedMarkerTest {
    private static final MemorySegment ALL = Blocks.ALL;

    private static void flip(long address) {
        ALL.set(ValueLayout.JAVA_BYTE, address, (byte) ~ALL.get(ValueLayout.JAVA_BYTE, address));
    }

    private static Heap checked() {
        return Heap.builder().mode(HeapMode.CHECKED).decay(Duration.ofHours(1)).jmx(false).build();
    }

    /** Two 32-aligned blocks of 16 bytes: engine blocks of 64 bytes, side by side; returns {lo, hi}. */
    private static long[] neighbours(Heap heap) {
        long x = heap.alignedAlloc(32, 16), y = heap.alignedAlloc(32, 16);
        long lo = Math.min(x, y), hi = Math.max(x, y);
        assertThat(hi - lo).as("adjacent engine blocks").isEqualTo(64);
        return new long[] {lo, hi};
    }

    /** lo's overflow by 24 bytes: its tail canary (16) and hi's marker word's first 8 bytes. */
    private static void overflow24(long lo) {
        for (int i = 0; i < 24; i++) flip(lo + 16 + i);
    }

    @Test
    void verifyNamesOnlyRealBlocksWhenAnOverflowHitsAnAlignedNeighboursMarker() {
        try (Heap heap = checked()) {
            long[] b = neighbours(heap);
            long lo = b[0], hi = b[1];
            overflow24(lo);
            List<HeapDamage> found = heap.verify();
            assertThat(found).extracting(HeapDamage::address).as("no block starts anywhere else").containsOnly(lo, hi);
            assertThat(found).filteredOn(d -> d.address() == hi).allSatisfy(d -> assertThat(d.size()).isEqualTo(16));
            assertThatThrownBy(() -> heap.free(lo)).isInstanceOf(HeapCorruptionException.class);
            assertThatThrownBy(() -> heap.free(hi)).isInstanceOf(HeapCorruptionException.class); // its marker
            assertThat(heap.verify()).isEmpty(); // both freed by the frees that reported them
        }
    }

    @Test
    void anInvalidFreeIntoTheFrontOfAnAlignedBlockWhoseMarkerWasHitFreesNothing() {
        try (Heap heap = checked()) {
            long[] b = neighbours(heap);
            long lo = b[0], hi = b[1];
            overflow24(lo);
            HeapStats before = heap.stats();
            // hi - 16 is where hi's header starts: not the start of any block
            assertThatThrownBy(() -> heap.free(hi - 16)).isInstanceOf(InvalidFreeException.class);
            assertThat(Blocks.state(heap.stats())).isEqualTo(Blocks.state(before));
            assertThat(heap.usableSize(hi)).isEqualTo(16); // hi is still the program's
        }
    }

    /**
     * The same invalid free with the marker intact and the header damaged (a 1-byte underflow): {@code b + 16} inside
     * the front of a 64-aligned block is not a block of 16-byte front, whatever the header says.
     */
    @Test
    void anInvalidFreeIntoTheFrontOfAnUnderflowedAlignedBlockFreesNothing() {
        try (Heap heap = checked()) {
            long p = heap.alignedAlloc(64, 100);
            flip(p - 1);
            HeapStats before = heap.stats();
            assertThatThrownBy(() -> heap.free(p - 48)).isInstanceOf(InvalidFreeException.class);
            assertThat(Blocks.state(heap.stats())).isEqualTo(Blocks.state(before));
            assertThatThrownBy(() -> heap.free(p)).isInstanceOf(HeapCorruptionException.class)
                    .satisfies(e -> {
                        HeapDamage d = ((HeapCorruptionException) e).damage();
                        assertThat(d.address()).isEqualTo(p);
                        assertThat(d.size()).isEqualTo(100);
                    });
            assertThat(heap.stats().liveBytes()).isZero();
        }
    }

    /**
     * The aligned block's own free reports its hit marker, as verify() does (an underflow of that block, 16 bytes and
     * more before its first byte): it went unseen there, the free succeeding as if the block were intact.
     */
    @Test
    void theFreeOfAnAlignedBlockWhoseMarkerWasHitReportsIt() {
        try (Heap heap = checked()) {
            long[] b = neighbours(heap);
            long lo = b[0], hi = b[1];
            overflow24(lo);
            assertThatThrownBy(() -> heap.free(hi)).isInstanceOfSatisfying(HeapCorruptionException.class, e -> {
                assertThat(e.damage().address()).isEqualTo(hi);
                assertThat(e.damage().kind()).isEqualTo(HeapDamage.Kind.UNDERFLOW);
                assertThat(e.damage().size()).isEqualTo(16);
            });
            assertThatThrownBy(() -> heap.free(lo)).isInstanceOfSatisfying(HeapCorruptionException.class,
                    e -> assertThat(e.damage().address()).isEqualTo(lo));
            assertThat(heap.stats().liveBytes()).isZero();
            assertThat(heap.verify()).isEmpty();
        }
    }
}
