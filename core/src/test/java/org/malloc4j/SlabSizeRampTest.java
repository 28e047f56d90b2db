package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.malloc4j.internal.small.SizeClasses;

/**
 * A thread's cache takes a small first slab for a size class and doubles the size with each further slab it owns of
 * the class, up to the class's standard size: a class used for a few blocks costs a page, not 16 to 28 KiB.
 */
class SlabSizeRampTest {
    private static final long KiB = 1024;
    private static final int BLOCK = 112; // first slab 1 page, standard 7 pages (28 KiB: 256 blocks, no tail)

    private static List<Long> slabBytes(Heap heap, int blockSize) {
        List<Long> sizes = new ArrayList<>();
        for (HeapSnapshot.Run r : heap.snapshot().runs()) {
            if (r.kind() == HeapSnapshot.Kind.SLAB && r.blockSize() == blockSize) sizes.add(r.bytes());
        }
        sizes.sort(null);
        return sizes;
    }

    @Test
    void slabsOfAClassDoubleFromOnePageToTheStandardSize() {
        try (Heap heap = Heap.builder().decay(Duration.ofHours(1)).jmx(false).build()) {
            List<Long> blocks = new ArrayList<>();
            long firstBlock = heap.malloc(BLOCK);
            Blocks.ALL.set(ValueLayout.JAVA_LONG, firstBlock + BLOCK - 8, firstBlock);
            blocks.add(firstBlock);
            assertThat(slabBytes(heap, BLOCK)).as("the class's first slab").containsExactly(4 * KiB);

            // 36 blocks fill the one-page slab, 73 the two-page one, 146 the four-page one, 256 a standard one.
            int filled = 0;
            for (long bytes : new long[] {4 * KiB, 8 * KiB, 16 * KiB, 28 * KiB, 28 * KiB}) {
                filled += (int) (bytes / BLOCK);
            }
            while (blocks.size() < filled + 1) {
                long p = heap.malloc(BLOCK);
                Blocks.ALL.set(ValueLayout.JAVA_LONG, p + BLOCK - 8, p);
                blocks.add(p);
            }
            assertThat(slabBytes(heap, BLOCK)).as("slab sizes after %d blocks", blocks.size())
                    .containsExactly(4 * KiB, 8 * KiB, 16 * KiB, 28 * KiB, 28 * KiB, 28 * KiB);
            for (long p : blocks) {
                assertThat((long) Blocks.ALL.get(ValueLayout.JAVA_LONG, p + BLOCK - 8)).isEqualTo(p);
                heap.free(p);
            }
            heap.trim();
            assertThat(heap.stats().committedBytes()).isZero();

            // A cache that owns no slab of the class starts small again.
            long p = heap.malloc(BLOCK);
            assertThat(slabBytes(heap, BLOCK)).containsExactly(4 * KiB);
            heap.free(p);
        }
    }

    @Test
    void twoBlocksInEverySmallClassCommitTheFirstSlabsOnly() {
        long first = 0, standard = 0;
        for (int c = 0; c < SizeClasses.FIRST_MEDIUM; c++) {
            first += SizeClasses.firstSlabPages(c) * 4 * KiB;
            standard += SizeClasses.slabPages(c) * 4 * KiB;
        }
        assertThat(first).as("first slabs of every small class, against standard ones (%d)", standard)
                .isLessThan(standard / 2);
        try (Heap heap = Heap.builder().decay(Duration.ofHours(1)).jmx(false).build()) {
            List<Long> live = new ArrayList<>();
            for (int c = 0; c < SizeClasses.FIRST_MEDIUM; c++) {
                for (int i = 0; i < 2; i++) live.add(heap.malloc(SizeClasses.size(c)));
            }
            assertThat(heap.stats().committedBytes()).as("committed with two blocks in each small class")
                    .isEqualTo(first);
            for (long p : live) heap.free(p);
            assertThat(heap.stats().liveBytes()).isZero();
        }
    }
}
