package org.malloc4j.internal.small;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** White-box checks of the size classes and of a slab's address arithmetic, exhaustive over every class. */
class SizeClassTest {
    private static final int PAGE = 4096;

    @Test
    void classesAreTheDocumentedSequence() {
        assertThat(SizeClasses.size(0)).isEqualTo(16);
        for (int c = 0; c < 8; c++) assertThat(SizeClasses.size(c)).isEqualTo(16 * (c + 1));
        // Then four classes per doubling, from 128 to 1 KiB, and eight from 1 KiB to 32 KiB, with one more just past
        // 1 KiB (a power of two and a header).
        int c = 8;
        for (int pow = 128; pow < SizeClasses.MAX_SMALL; pow <<= 1) {
            int steps = pow < 1024 ? 4 : 8;
            if (pow == 1024) {
                assertThat(SizeClasses.size(c)).as("class %d", c).isEqualTo(pow + pow / 32);
                c++;
            }
            for (int k = 1; k <= steps; k++) {
                assertThat(SizeClasses.size(c)).as("class %d", c).isEqualTo(pow + k * pow / steps);
                c++;
            }
        }
        assertThat(SizeClasses.size(c - 1)).isEqualTo(SizeClasses.MAX_SMALL);
        // Then eight medium classes per doubling, from 32 KiB to 256 KiB, each a whole number of pages.
        for (int pow = SizeClasses.MAX_SMALL; pow < SizeClasses.MAX_CACHED; pow <<= 1) {
            for (int k = 1; k <= 8; k++) {
                assertThat(SizeClasses.size(c)).as("class %d", c).isEqualTo(pow + k * pow / 8);
                assertThat(SizeClasses.size(c) % PAGE).isZero();
                c++;
            }
        }
        assertThat(SizeClasses.COUNT).isEqualTo(c);
        assertThat(SizeClasses.size(SizeClasses.COUNT - 1)).isEqualTo(SizeClasses.MAX_CACHED);
        for (int i = 0; i < SizeClasses.COUNT; i++) {
            assertThat(SizeClasses.size(i) % 16).as("class %d is a multiple of 16", i).isZero();
            if (i > 0) assertThat(SizeClasses.size(i)).isGreaterThan(SizeClasses.size(i - 1));
        }
    }

    @Test
    void aGrownBlockGetsTheNextClassOnTheFourPerDoublingGridAbove1536Bytes() {
        for (int size = 0; size <= SizeClasses.MAX_CACHED; size++) {
            int exact = SizeClasses.classOf(size);
            int grown = SizeClasses.grownClassOf(size);
            int block = SizeClasses.size(exact);
            if (block <= SizeClasses.GROWN_FROM || block > SizeClasses.MAX_SMALL) {
                assertThat(grown).as("grownClassOf(%d): no headroom at or below 1536 bytes, or above 32 KiB", size)
                        .isEqualTo(exact);
                continue;
            }
            int pow = Integer.highestOneBit(block - 1);
            boolean onGrid = (block - pow) % (pow / 4) == 0;
            assertThat(grown).as("grownClassOf(%d), exact class %d bytes", size, block)
                    .isEqualTo(onGrid ? exact : exact + 1);
            int grownSize = SizeClasses.size(grown);
            int grownPow = Integer.highestOneBit(grownSize - 1);
            assertThat((grownSize - grownPow) % (grownPow / 4)).as("%d bytes is on the grid", grownSize).isZero();
            assertThat((double) grownSize / size).as("headroom for %d bytes at most a quarter", size)
                    .isLessThanOrEqualTo(1.25 + 1e-9);
        }
        assertThat(SizeClasses.size(SizeClasses.grownClassOf(2100))).isEqualTo(2560);
        assertThat(SizeClasses.size(SizeClasses.grownClassOf(1100))).isEqualTo(1152);
    }

    @Test
    void everySizeMapsToTheSmallestClassThatHoldsIt() {
        int previous = 0;
        for (int size = 0; size <= SizeClasses.MAX_CACHED; size++) {
            int c = SizeClasses.classOf(size);
            assertThat(c).as("classOf(%d) is monotone", size).isGreaterThanOrEqualTo(previous);
            previous = c;
            assertThat(SizeClasses.size(c)).as("class of %d holds it", size).isGreaterThanOrEqualTo(size);
            if (c > 0) {
                assertThat(SizeClasses.size(c - 1)).as("the class below that of %d is too small", size)
                        .isLessThan(size);
            }
        }
    }

    /**
     * Internal waste: under 16 bytes up to 128; above 128 a block is less than 1.25 times the request, so that less
     * than 20% of every block is waste, and above 1 KiB less than 1.125 times.
     */
    @Test
    void wasteIsBounded() {
        double worstRatio = 0;
        for (int size = 1; size <= SizeClasses.MAX_SMALL; size++) {
            int block = SizeClasses.size(SizeClasses.classOf(size));
            if (size <= 128) {
                assertThat(block - size).as("waste for %d", size).isLessThan(16);
            } else {
                assertThat((double) block).as("block for %d", size).isLessThan(1.25 * size);
                assertThat((double) (block - size) / block).as("waste share for %d", size).isLessThan(0.2);
                if (size > 1024) assertThat((double) block).as("block for %d", size).isLessThan(1.125 * size);
                worstRatio = Math.max(worstRatio, (double) block / size);
            }
        }
        // Medium classes: under 12.5% waste.
        for (int size = SizeClasses.MAX_SMALL + 1; size <= SizeClasses.MAX_CACHED; size++) {
            int block = SizeClasses.size(SizeClasses.classOf(size));
            assertThat((double) block).as("block for %d", size).isLessThan(1.125 * size);
        }
        // The bound is tight: just above a class boundary, 129 -> 160.
        assertThat(worstRatio).isGreaterThan(1.2);
        assertThat(SizeClasses.size(SizeClasses.classOf(129))).isEqualTo(160);
        assertThat(SizeClasses.size(SizeClasses.classOf(0))).isEqualTo(16);
    }

    @Test
    void slabsHoldAtLeastFourBlocksAndFitTheBitmap() {
        for (int c = 0; c < SizeClasses.COUNT; c++) {
            int pages = SizeClasses.slabPages(c);
            int size = SizeClasses.size(c);
            long bytes = (long) pages * PAGE;
            long capacity = bytes / size;
            assertThat(pages).as("slab pages of class %d", c).isPositive();
            if (size > SizeClasses.MAX_SMALL) {
                // Medium: one block, exactly its pages.
                assertThat(capacity).isEqualTo(1);
                assertThat(bytes).isEqualTo(size);
                continue;
            }
            assertThat(capacity).as("blocks per slab of class %d", size).isBetween(4L, (long) SizeClasses.MAX_CAPACITY);
            // The unused tail is under one block and, with the slab sizes chosen, a small share of the slab.
            assertThat(bytes % size).isLessThan(size);
            assertThat((double) (bytes % size) / bytes).as("tail share for class %d", size).isLessThan(0.125);
            Slab slab = new Slab(0, c, null);
            assertThat(slab.capacity).isEqualTo(capacity);
            assertThat(slab.blockSize).isEqualTo(size);
            assertThat(slab.pages).isEqualTo(pages);
        }
    }

    @Test
    void slabSizesRampFromASmallFirstSlabToTheStandardOne() {
        for (int c = 0; c < SizeClasses.COUNT; c++) {
            int size = SizeClasses.size(c);
            int first = SizeClasses.firstSlabPages(c), standard = SizeClasses.slabPages(c);
            if (size > SizeClasses.MAX_SMALL) {
                assertThat(first).as("a medium class has one slab size").isEqualTo(standard);
            } else {
                assertThat(first).as("first slab of class %d", size).isBetween(1, standard);
            }
            int previous = 0;
            for (int n = 0; n <= SizeClasses.RAMP_STEPS; n++) {
                int pages = SizeClasses.slabPagesAt(c, n);
                long bytes = (long) pages * PAGE;
                assertThat(pages).as("step %d of class %d", n, size).isGreaterThanOrEqualTo(previous);
                assertThat(SizeClasses.rampStep(c, pages)).as("step of %d pages, class %d", pages, size)
                        .isEqualTo(pages == standard ? SizeClasses.RAMP_STEPS : n);
                if (size <= SizeClasses.MAX_SMALL) {
                    // Two blocks at least (one block marks a medium slab), a tail under an eighth, the bitmap's bound.
                    assertThat(bytes / size).as("blocks at step %d of class %d", n, size)
                            .isBetween(2L, (long) SizeClasses.MAX_CAPACITY);
                    assertThat((double) (bytes % size) / bytes).as("tail share at step %d of class %d", n, size)
                            .isLessThan(0.125);
                }
                Slab slab = new Slab(0, c, pages, null);
                assertThat(slab.capacity).isEqualTo((int) (bytes / size));
                assertThat(slab.pages).isEqualTo(pages);
                previous = pages;
            }
            assertThat(SizeClasses.slabPagesAt(c, SizeClasses.RAMP_STEPS)).as("last step of class %d", size)
                    .isEqualTo(standard);
        }
    }

    @Test
    void alignedClassesAreMultiplesOfTheAlignment() {
        for (long alignment = 1; alignment <= PAGE; alignment <<= 1) {
            for (int size = 0; size <= SizeClasses.MAX_SMALL; size += 7) {
                int c = SizeClasses.alignedClassOf(size, alignment);
                if (c < 0) {
                    // Only when no class at or above the request is a multiple of the alignment.
                    for (int k = SizeClasses.classOf(size); k < SizeClasses.COUNT && SizeClasses.size(k) <= SizeClasses.MAX_SMALL; k++) {
                        assertThat(SizeClasses.size(k) % alignment).isNotZero();
                    }
                    continue;
                }
                assertThat(SizeClasses.size(c)).isGreaterThanOrEqualTo(size);
                assertThat(SizeClasses.size(c) % alignment).as("alignedClassOf(%d, %d)", size, alignment).isZero();
                for (int k = SizeClasses.classOf(size); k < c; k++) {
                    assertThat(SizeClasses.size(k) % alignment).as("a smaller aligned class exists").isNotZero();
                }
            }
            // Medium classes: one page-aligned block a slab, so any alignment up to a page.
            assertThat(SizeClasses.alignedClassOf(SizeClasses.MAX_SMALL + 1, alignment))
                    .isEqualTo(SizeClasses.classOf(SizeClasses.MAX_SMALL + 1));
            assertThat(SizeClasses.alignedClassOf(SizeClasses.MAX_CACHED + 1, alignment)).isEqualTo(-1);
        }
    }

    /** indexOf and blockContaining for every byte offset of a slab, every class, at two bases. */
    @Test
    void slabIndexArithmeticIsExactForEveryOffset() {
        for (long base : new long[] {0, 0x7f12_3456_7000L}) {
            for (int c = 0; c < SizeClasses.COUNT; c++) {
                Slab slab = new Slab(base, c, null);
                int size = slab.blockSize;
                long slabBytes = (long) slab.pages * PAGE;
                for (long off = 0; off <= slabBytes; off++) {
                    long idx = off / size;
                    boolean inBlock = idx < slab.capacity;
                    int expectedStart = inBlock && off % size == 0 ? (int) idx : -1;
                    int expectedContaining = inBlock ? (int) idx : -1;
                    int start = slab.indexOf(base + off);
                    int containing = slab.blockContaining(base + off);
                    if (start != expectedStart || containing != expectedContaining) {
                        throw new AssertionError("class " + size + ", base 0x" + Long.toHexString(base) + ", offset "
                                + off + ": indexOf " + start + " (expected " + expectedStart + "), blockContaining "
                                + containing + " (expected " + expectedContaining + ")");
                    }
                }
                for (int i = 0; i < slab.capacity; i++) {
                    assertThat(slab.blockAddress(i)).isEqualTo(base + (long) i * size);
                }
                if (base > 0) {
                    for (long before : new long[] {1, 16, size, PAGE}) {
                        assertThat(slab.indexOf(base - before)).as("address below the slab").isEqualTo(-1);
                        assertThat(slab.blockContaining(base - before)).as("address below the slab").isEqualTo(-1);
                    }
                }
            }
        }
    }

    /** The requested size of every block is recorded exactly, for every size a class can be asked for. */
    @Test
    void requestedSizeRoundTripsForEverySizeOfEveryClass() {
        for (int c = 0; c < SizeClasses.COUNT; c++) {
            Slab slab = new Slab(0, c, null);
            int lowest = c == 0 ? 0 : SizeClasses.size(c - 1) + 1;
            for (int size = lowest; size <= slab.blockSize; size++) {
                int idx = size % slab.capacity;
                slab.setRequested(idx, size);
                assertThat(slab.requested(idx)).as("class %d, size %d", slab.blockSize, size).isEqualTo(size);
            }
        }
    }

    /**
     * Aligned allocation puts a small request in a class that is a multiple of the alignment, possibly much bigger
     * than the request (alignedAlloc(1024, 16) takes a 1024-byte block): the requested size must still round-trip.
     */
    @Test
    void requestedSizeRoundTripsForAlignedRequests() {
        for (long alignment = 32; alignment <= PAGE; alignment <<= 1) {
            for (int size = 0; size <= SizeClasses.MAX_SMALL; size++) {
                int c = SizeClasses.alignedClassOf(size, alignment);
                if (c < 0) continue;
                Slab slab = new Slab(0, c, null);
                slab.setRequested(0, size);
                if (slab.requested(0) != size) {
                    throw new AssertionError("alignedClassOf(" + size + ", " + alignment + ") = class of "
                            + slab.blockSize + " bytes: requested size reads back as " + slab.requested(0));
                }
            }
        }
    }
}
