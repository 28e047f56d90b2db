package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.ValueLayout;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * calloc over pages whose state the page layer had to get right, FAST and CHECKED: a dirty run reused in part,
 * clean and dirty runs side by side (never merged), a block grown in place over a clean run and shrunk, pages moved by
 * the page tables (a relocated block, gathered holes) whose old places are filed clean, and pages given back by trim.
 * Each calloc must read zero throughout, and every other live block keep its bytes.
 */
class CallocOverReusedPagesTest {
    private static final long KIB = 1024, MIB = 1024 * KIB;

    private static Heap heap(HeapMode mode, Heap.Builder b) {
        return b.mode(mode).quarantine(0).jmx(false).build();
    }

    /** Fills a block with a nonzero byte. */
    private static void fill(long p, long n, int b) {
        Blocks.ALL.asSlice(p, n).fill((byte) b);
    }

    /** Every byte of the block is {@code b}. */
    private static void assertFilled(long p, long n, int b) {
        long word = (b & 0xffL) * 0x0101010101010101L;
        for (long off = 0; off < n; off += 8) {
            long at = Math.min(off, n - 8);
            long got = Blocks.ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, p + at);
            if (got != word) assertThat(got).as("word %d of %s", at, Blocks.hex(p)).isEqualTo(word);
        }
    }

    private static long calloc(Heap h, long n) {
        long p = h.calloc(1, n);
        long off = EveryByteKeptOrZeroedTest.firstNonzero(p, n);
        assertThat(off).as("first nonzero byte of calloc(1, %d) = %s", n, Blocks.hex(p)).isEqualTo(-1);
        return p;
    }

    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void aDirtyRunReusedInPartAndTheCleanRunBesideIt(HeapMode mode) {
        try (Heap h = heap(mode, Heap.builder().decay(Duration.ofHours(1)))) {
            long a = h.malloc(2 * MIB);
            long g = h.malloc(64 * KIB + 1);
            fill(a, 2 * MIB, 0x5a);
            fill(g, 64 * KIB + 1, 0x33);
            h.free(a); // a dirty run of 2 MiB
            long c1 = calloc(h, MIB); // its first half
            long c2 = calloc(h, 1536 * KIB); // too long for the half left: clean pages
            long c3 = calloc(h, MIB - 8192); // the dirty half left, less two pages
            fill(c1, MIB, 0x11);
            h.free(c1);
            h.free(c3);
            long c4 = calloc(h, 2 * MIB - 8192); // the dirty run again, merged
            assertFilled(g, 64 * KIB + 1, 0x33);
            h.free(c4);
            h.free(c2);
            h.free(g);
            assertThat(h.verify()).isEmpty();
        }
    }

    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void cleanAndDirtyNeighboursAndTrim(HeapMode mode) {
        try (Heap h = heap(mode, Heap.builder().decay(Duration.ofHours(1)))) {
            long a = h.malloc(MIB), b = h.malloc(MIB), c = h.malloc(MIB), g = h.malloc(MIB);
            for (long p : new long[] {a, b, c, g}) fill(p, MIB, 0x77);
            h.free(b);
            h.trim(); // b's pages clean
            h.free(a);
            h.free(c); // dirty on either side of the clean run
            long x = calloc(h, 3 * MIB - 4096); // fits only with the clean run: never merged with the dirty ones
            long y = calloc(h, MIB); // a dirty run
            long z = calloc(h, MIB);
            assertFilled(g, MIB, 0x77);
            fill(x, 3 * MIB - 4096, 1);
            h.free(x);
            h.free(y);
            h.free(z);
            h.trim();
            long w = calloc(h, 3 * MIB);
            h.free(w);
            h.free(g);
            assertThat(h.verify()).isEmpty();
        }
    }

    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void aBlockGrownInPlaceOverACleanRunThenShrunkAndFreed(HeapMode mode) {
        try (Heap h = heap(mode, Heap.builder().decay(Duration.ofHours(1)))) {
            long a = h.malloc(MIB);
            long b = h.malloc(MIB);
            long g = h.malloc(MIB);
            fill(a, MIB, 0x21);
            fill(b, MIB, 0x22);
            fill(g, MIB, 0x23);
            h.free(b);
            h.trim();
            long grown = h.realloc(a, 2 * MIB - 8192);
            if (mode == HeapMode.FAST) assertThat(grown).as("grown in place over the clean run").isEqualTo(a);
            assertFilled(grown, MIB, 0x21);
            fill(grown, 2 * MIB - 8192, 0x24);
            long shrunk = h.realloc(grown, 256 * KIB);
            assertFilled(shrunk, 256 * KIB, 0x24);
            long c = calloc(h, MIB); // the dirty tail the shrink cut off
            h.free(shrunk);
            long d = calloc(h, 2 * MIB - 8192 - MIB);
            assertFilled(g, MIB, 0x23);
            h.free(c);
            h.free(d);
            h.free(g);
            assertThat(h.verify()).isEmpty();
        }
    }

    /** A block moved by its pages (decay 0; one over the release threshold): its old place, filed clean, reads zero. */
    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void theOldPlaceOfABlockMovedByItsPages(HeapMode mode) {
        for (Heap.Builder b : new Heap.Builder[] {Heap.builder().decay(Duration.ZERO),
                Heap.builder().decay(Duration.ofHours(1)).releaseThreshold(512 * KIB)}) {
            try (Heap h = heap(mode, b)) {
                long a = h.malloc(MIB);
                long g = h.malloc(64 * KIB); // keeps a from growing in place
                fill(a, MIB, 0x41);
                fill(g, 64 * KIB, 0x42);
                long moved = h.realloc(a, 3 * MIB);
                assertFilled(moved, MIB, 0x41);
                fill(moved, 3 * MIB, 0x43);
                long c = calloc(h, MIB); // the old place, or clean pages
                long d = calloc(h, 64 * KIB);
                assertFilled(g, 64 * KIB, 0x42);
                assertFilled(moved, 3 * MIB, 0x43);
                h.free(moved);
                long e = calloc(h, 3 * MIB);
                h.free(c);
                h.free(d);
                h.free(e);
                h.free(g);
                assertThat(h.verify()).isEmpty();
            }
        }
    }

    /** Holes gathered into a new run at a peak: the calloc'd run holds moved dirty pages, their old places clean. */
    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void gatheredHolesAndTheirOldPlaces(HeapMode mode) {
        for (PageGathering gathering : new PageGathering[] {PageGathering.AT_EVERY_PEAK, PageGathering.BOUNDED}) {
            try (Heap h = heap(mode, Heap.builder().decay(Duration.ofHours(1)).pageGathering(gathering))) {
                long[] blocks = new long[8];
                for (int i = 0; i < blocks.length; i++) {
                    blocks[i] = h.malloc(512 * KIB);
                    fill(blocks[i], 512 * KIB, 0x60 + i);
                }
                for (int i = 0; i < blocks.length; i += 2) h.free(blocks[i]); // dirty holes of 512 KiB
                long big = calloc(h, 2 * MIB); // no hole holds it: the holes move in
                assertThat(h.stats().committedBytes()).as("the holes gathered, not 2 MiB of new pages")
                        .isLessThan(5 * MIB);
                fill(big, 2 * MIB, 0x70);
                long[] small = new long[4];
                for (int i = 0; i < small.length; i++) small[i] = calloc(h, 512 * KIB - 4096); // the old places
                for (int i = 1; i < blocks.length; i += 2) assertFilled(blocks[i], 512 * KIB, 0x60 + i);
                assertFilled(big, 2 * MIB, 0x70);
                h.free(big);
                long again = calloc(h, 2 * MIB);
                h.free(again);
                for (long s : small) h.free(s);
                for (int i = 1; i < blocks.length; i += 2) h.free(blocks[i]);
                assertThat(h.verify()).isEmpty();
            }
        }
    }

    /**
     * A freed gathered block, its pages a mapping a moved piece, found as a hole by the next gathering: a kernel that
     * refuses to move a source of several mappings (before 6.17) has it purged instead, the new run's destination
     * mapped afresh where the kernel unmapped it before refusing (before 6.12); a later kernel moves it. Either way the
     * calloc reads zero and no live block loses a byte.
     */
    @ParameterizedTest
    @EnumSource(HeapMode.class)
    void aGatheredBlockFreedAndFoundAsAHoleByTheNextGathering(HeapMode mode) {
        Heap.Builder b = Heap.builder().decay(Duration.ofHours(1)).pageGathering(PageGathering.AT_EVERY_PEAK);
        try (Heap h = heap(mode, b)) {
            long[] blocks = new long[8];
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = h.malloc(512 * KIB);
                fill(blocks[i], 512 * KIB, 0x50 + i);
            }
            for (int i = 0; i < blocks.length; i += 2) h.free(blocks[i]);
            long gathered = calloc(h, 2 * MIB - 16 * KIB); // the four holes move in
            fill(gathered, 2 * MIB - 16 * KIB, 0x5f);
            long guard = h.malloc(512 * KIB); // keeps the gathered block, freed, from the clean pages after it
            fill(guard, 512 * KIB, 0x4f);
            h.free(gathered); // a dirty run of moved pieces
            long next = calloc(h, 3 * MIB); // a new peak: the gathered run is the only hole
            fill(next, 3 * MIB, 0x3f);
            long again = calloc(h, 2 * MIB - 16 * KIB); // the old gathered place, purged
            for (int i = 1; i < blocks.length; i += 2) assertFilled(blocks[i], 512 * KIB, 0x50 + i);
            assertFilled(guard, 512 * KIB, 0x4f);
            assertFilled(next, 3 * MIB, 0x3f);
            h.free(again);
            h.free(next);
            h.free(guard);
            for (int i = 1; i < blocks.length; i += 2) h.free(blocks[i]);
            h.trim();
            long last = calloc(h, 6 * MIB);
            h.free(last);
            assertThat(h.verify()).isEmpty();
        }
    }
}
