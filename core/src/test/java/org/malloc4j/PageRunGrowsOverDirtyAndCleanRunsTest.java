package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A page-run block that cannot move grows in place when the free pages after it are enough, even when they lie in a
 * dirty run and a clean run side by side (the page layer never merges the two): the growth must not look at the first
 * run alone.
 */
class PageRunGrowsOverDirtyAndCleanRunsTest {
    private static final long MIB = 1L << 20;

    /**
     * A 16 MiB reservation: a block of 8 MiB, a block of 4 MiB, then a freed block of 4 MiB less a page (a dirty run),
     * then the last page, never used (clean). Growing the 4 MiB block to 8 MiB fills the reservation exactly; it was
     * refused with HeapExhaustedException, the only other place, a copy, having no room.
     */
    @Test
    void aBlockGrowsToTheEndOfTheReservationOverADirtyRunAndTheCleanPageAfterIt() {
        try (Heap h = Heap.builder().reserve(16 * MIB).decay(Duration.ofHours(1)).jmx(false).build()) {
            long a = h.malloc(8 * MIB);
            long b = h.malloc(4 * MIB);
            long c = h.malloc(4 * MIB - 4096);
            h.free(c);
            assertThat(h.stats().committedBytes()).as("the freed block waits, dirty").isEqualTo(16 * MIB - 4096);
            long[] grownTo = new long[1];
            assertThatCode(() -> grownTo[0] = h.realloc(b, 8 * MIB)).as("the free pages after b hold the growth")
                    .doesNotThrowAnyException();
            long grown = grownTo[0];
            assertThat(grown).as("grown in place").isEqualTo(b);
            assertThat(h.usableSize(grown)).isEqualTo(8 * MIB);
            assertThat(h.verify()).isEmpty();
            assertThat(h.stats().committedBytes()).isEqualTo(16 * MIB);
            h.free(grown);
            h.free(a);
        }
    }

    /**
     * The other order, under a limit: a clean run right after the block, a dirty one after that; together they hold the
     * growth, and the limit leaves no room for a copy (the new run's clean pages beside the old block). Where the block
     * can move, it moves, as before (its copy's new run most often dirty and resident: growing across the runs then was
     * slower, see PageHeap.growAcrossRunsIfNowhereElse).
     */
    @Test
    void aBlockGrowsInPlaceOverACleanRunAndTheDirtyRunAfterItWhenItCannotMove() {
        try (Heap h = Heap.builder().limit(4 * MIB).decay(Duration.ofHours(1)).jmx(false).build()) {
            long b = h.malloc(MIB);
            long c1 = h.malloc(MIB);
            long c2 = h.malloc(MIB);
            long d = h.malloc(MIB); // keeps the free pages after b bounded
            h.free(c1);
            h.trim(); // c1's pages go back: a clean run
            h.free(c2); // a dirty run beside it
            assertThat(h.stats().committedBytes()).as("b, c2 dirty, d").isEqualTo(3 * MIB);
            long[] grownTo = new long[1];
            assertThatCode(() -> grownTo[0] = h.realloc(b, 3 * MIB)).as("the free pages after b hold the growth")
                    .doesNotThrowAnyException();
            assertThat(grownTo[0]).as("grown in place").isEqualTo(b);
            assertThat(h.verify()).isEmpty();
            assertThat(h.stats().committedBytes()).as("the grown block and d").isEqualTo(4 * MIB);
            h.free(grownTo[0]);
            h.free(d);
        }
    }
    /**
     * A growth over a dirty run and the clean run after it whose clean pages pass the limit only while a dirty run
     * elsewhere is still committed: that run goes back first, as it does for a growth over one clean run and for a new
     * run. A limit of 10 MiB; a freed block of 3 MiB (dirty), the block of 4 MiB, a freed block of 1 MiB (dirty), the
     * rest of the reservation (clean). Growing the block to 8 MiB takes 3 MiB of clean pages: 8 + 3 committed, over
     * the limit, with the 3 MiB dirty run; 4 + 4 without it. A copy needs 4 + 8. The realloc was refused with
     * HeapExhaustedException, and the same realloc again then grew in place: the refused copy had purged the dirty
     * runs.
     */
    @Test
    void aGrowthOverADirtyAndACleanRunGivesBackTheDirtyRunsElsewhereFirstUnderTheLimit() {
        try (Heap h = Heap.builder().limit(10 * MIB).decay(Duration.ofHours(1)).jmx(false).build()) {
            long e = h.malloc(3 * MIB);
            long b = h.malloc(4 * MIB);
            long d = h.malloc(MIB);
            Blocks.fill(b, 4 * MIB, (byte) 0x5b);
            h.free(e);
            h.free(d);
            assertThat(h.stats().committedBytes()).as("b, and the two dirty runs").isEqualTo(8 * MIB);
            long grown;
            try {
                grown = h.realloc(b, 8 * MIB);
            } catch (HeapExhaustedException refused) { // an Error: caught here, or it would end the test JVM
                throw new AssertionError("refused: " + refused.getMessage(), refused);
            }
            assertThat(grown).as("grown in place").isEqualTo(b);
            Blocks.check(grown, 4 * MIB, 4 * MIB, (byte) 0x5b); // the regions written
            assertThat(h.verify()).isEmpty();
            HeapStats s = h.stats();
            assertThat(s.committedBytes()).as("the grown block alone").isEqualTo(8 * MIB);
            assertThat(s.liveBytes()).isEqualTo(8 * MIB);
            h.free(grown);
        }
    }
    /**
     * A growth into the clean pages after the block that only the calling thread's empty slabs keep under the limit
     * (they count as committed): they go back before the realloc gives up, as they go back before a refused malloc's
     * last try. A limit of 4 MiB; a medium block freed (its empty slab, 208 KiB, a spare of the thread's cache), a
     * block of 2 MiB grown to 4 MiB less 100 KB. The realloc was refused with HeapExhaustedException (the copy, 6 MiB,
     * gave the spare back before it failed), and the same realloc then grew in place.
     */
    @Test
    void aGrowthThatOnlyTheThreadsSpareSlabsKeepOverTheLimitGivesThemBackFirst() {
        try (Heap h = Heap.builder().limit(4 * MIB).decay(Duration.ofHours(1)).jmx(false).build()) {
            h.free(h.malloc(200_000));
            long b = h.malloc(2 * MIB);
            Blocks.fill(b, 2 * MIB, (byte) 0x3c);
            assertThat(h.stats().committedBytes()).as("b and the spare slab").isGreaterThan(2 * MIB);
            long grown;
            try {
                grown = h.realloc(b, 4 * MIB - 100_000);
            } catch (HeapExhaustedException refused) { // an Error: caught here, or it would end the test JVM
                throw new AssertionError("refused: " + refused.getMessage(), refused);
            }
            assertThat(grown).as("grown in place").isEqualTo(b);
            Blocks.check(grown, 2 * MIB, 2 * MIB, (byte) 0x3c);
            assertThat(h.verify()).isEmpty();
            HeapStats s = h.stats();
            // the grown block alone, with the rest of its last page
            assertThat(s.committedBytes()).as("the grown block alone").isEqualTo(4 * MIB - 100_000 + 1_696);
            assertThat(s.liveBytes()).isEqualTo(4 * MIB - 100_000);
            assertThat(s.mallocCount()).isEqualTo(2);
            assertThat(s.freeCount()).isEqualTo(1);
            h.free(grown);
        }
    }
}
