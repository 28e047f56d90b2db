package org.malloc4j.internal.page;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;
import org.malloc4j.ManualClock;
import org.malloc4j.PageGathering;
import org.malloc4j.internal.os.Memory;
import org.malloc4j.internal.os.Os;

/**
 * The page layer on its own, against a model: random allocations (some aligned), frees, in-place resizes and
 * trims; after every step no two live runs overlap, and the layer's own invariants hold (tags, no unmerged
 * neighbours, indexes matching the pages they hold). Decay settings cover "never" (so the decay queue
 * overflows and purges early), "at once", and a release threshold that purges large runs on free; half the runs
 * gather dirty pages into new runs.
 */
class PageHeapTest {
    private static final int PAGES = 1 << 16; // 256 MiB of address space

    @Test
    void freeingAndReusingOneRunInALoopKeepsTheDecayQueueSmall() {
        withLongDecay(heap -> {
            for (int i = 0; i < 200_000; i++) {
                long a = heap.allocateBlock(25, 4096, 100_000) & ~PageHeap.FRESH;
                heap.free(heap.pageOf(a));
            }
            // Every free queues an entry and every reuse makes it stale: compaction keeps the ring at its first size.
            assertThat(heap.decayCapacity()).isEqualTo(1024);
            assertThat(heap.purgeCount()).isZero();
        });
    }

    @Test
    void manyRunsWaitingAtOnceGrowTheQueueAndStayCommitted() {
        withLongDecay(heap -> {
            long[] blocks = new long[6000];
            for (int i = 0; i < blocks.length; i++) blocks[i] = heap.allocateBlock(1, 4096, 4096) & ~PageHeap.FRESH;
            for (int i = 0; i < blocks.length; i += 2) heap.free(heap.pageOf(blocks[i])); // 3000 separate free runs
            assertThat(heap.decayCapacity()).isGreaterThanOrEqualTo(4096);
            assertThat(heap.purgeCount()).isZero(); // none purged early: all wait for their decay time
            assertThat(heap.dirtyBytes()).isEqualTo(3000L * 4096);
        });
    }

    /**
     * A large block (256 KiB or more) that must take clean pages gives back up to as many pages of the smallest
     * dirty runs, those under 256 KiB, which no large block can use; a larger dirty run stays, and a slab taking clean
     * pages purges nothing.
     */
    @Test
    void aLargeBlockFromCleanPagesPurgesTheSmallDirtyRuns() {
        withLongDecay(heap -> {
            heap.pageGathering(PageGathering.OFF); // what is purged, not moved
            long[] runs = new long[6];
            long[] sizes = {10, 1, 30, 1, 80, 1}; // three free runs to be, each below a used page
            for (int i = 0; i < runs.length; i++) {
                runs[i] = heap.allocateBlock(sizes[i], 4096, sizes[i] * 4096) & ~PageHeap.FRESH;
            }
            for (int i = 0; i < runs.length; i += 2) heap.free(heap.pageOf(runs[i]));
            assertThat(heap.dirtyBytes()).isEqualTo(120 * 4096);
            long slab = heap.allocateSlab(100);
            assertThat(slab & PageHeap.FRESH).as("a slab from clean pages").isNotZero();
            assertThat(heap.purgeCount()).as("a slab purges nothing").isZero();
            long large = heap.allocateBlock(100, 4096, 100 * 4096);
            assertThat(large & PageHeap.FRESH).isNotZero();
            assertThat(heap.purgeCount()).as("the 10- and 30-page runs").isEqualTo(2);
            assertThat(heap.dirtyBytes()).as("the 80-page run stays for the next large block").isEqualTo(80 * 4096);
            assertThat(heap.committedPages()).isEqualTo(3 + 80 + 100 + 100);
            long next = heap.allocateBlock(70, 4096, 70 * 4096) & ~PageHeap.FRESH;
            assertThat(next).as("from the 80-page dirty run").isEqualTo(runs[4]);
            assertThat(heap.committedPages()).isEqualTo(3 + 80 + 100 + 100);
            for (long r : new long[] {runs[1], runs[3], runs[5], slab, large, next}) {
                heap.free(heap.pageOf(r & ~PageHeap.FRESH));
            }
        });
    }

    /**
     * With gathering on, a block that no dirty run holds, and that would raise committed pages above their peak, gets
     * the pages of the shorter dirty runs moved into it, longest first: their contents arrive with them (the pages
     * moved, nothing was copied), their old places read zero and are clean, and committed pages grow by what was not
     * found. Without gathering the same steps take all-new pages.
     */
    @Test
    void aBlockPastThePeakGathersTheShorterDirtyRuns() {
        for (boolean gather : new boolean[] {true, false}) {
            withLongDecay(heap -> {
                heap.pageGathering(gather ? PageGathering.AT_EVERY_PEAK : PageGathering.OFF);
                long[] sizes = {10, 1, 6, 1, 5, 1}; // three free runs to be, each below a used page
                long[] runs = new long[sizes.length];
                for (int i = 0; i < runs.length; i++) {
                    runs[i] = heap.allocateBlock(sizes[i], 4096, sizes[i] * 4096) & ~PageHeap.FRESH;
                    for (int p = 0; p < sizes[i]; p++) Memory.putLong(runs[i] + p * 4096L, marker(i, p));
                }
                for (int i = 0; i < runs.length; i += 2) heap.free(heap.pageOf(runs[i]));
                assertThat(heap.committedPages()).isEqualTo(24);
                long block = heap.allocateBlock(20, 4096, 20 * 4096);
                long at = block & ~PageHeap.FRESH;
                if (!gather) {
                    assertThat(block & PageHeap.FRESH).isNotZero();
                    assertThat(heap.committedPages()).isEqualTo(44);
                    assertThat(heap.gatherCounts()).containsExactly(0, 0);
                } else {
                    assertThat(block & PageHeap.FRESH).as("not all clean pages").isZero();
                    assertThat(heap.gatherCounts()).as("the 10- and 6-page runs; the 5-page one does not fit in 4")
                            .containsExactly(16, 2);
                    assertThat(heap.purgeCount()).as("each move a system call, counted").isEqualTo(2);
                    assertThat(heap.committedPages()).as("3 used pages, the block, the 5-page dirty run")
                            .isEqualTo(3 + 20 + 5);
                    assertThat(heap.dirtyBytes()).isEqualTo(5 * 4096);
                    for (int p = 0; p < 10; p++) assertThat(Memory.getLong(at + p * 4096L)).isEqualTo(marker(0, p));
                    for (int p = 0; p < 6; p++) {
                        assertThat(Memory.getLong(at + (10 + p) * 4096L)).isEqualTo(marker(2, p));
                    }
                    for (int p = 0; p < 10; p++) assertThat(Memory.getLong(runs[0] + p * 4096L)).isZero();
                    for (int p = 0; p < 6; p++) assertThat(Memory.getLong(runs[2] + p * 4096L)).isZero();
                    // Below the peak (28 pages) nothing moves: with every free run purged, a 4-page dirty run made
                    // again and a 12-page block to place, committed pages go to 3 + 1 + 4 + 12 = 20.
                    heap.free(heap.pageOf(at));
                    at = 0;
                    heap.purgeAll();
                    long small = heap.allocateBlock(4, 4096, 4 * 4096) & ~PageHeap.FRESH;
                    long guard = heap.allocateBlock(1, 4096, 4096) & ~PageHeap.FRESH;
                    Memory.putLong(small, 1);
                    heap.free(heap.pageOf(small));
                    long below = heap.allocateBlock(12, 4096, 12 * 4096);
                    assertThat(below & PageHeap.FRESH).isNotZero();
                    assertThat(heap.gatherCounts()).containsExactly(16, 2);
                    assertThat(heap.committedPages()).isEqualTo(20);
                    heap.free(heap.pageOf(below & ~PageHeap.FRESH));
                    heap.free(heap.pageOf(guard));
                }
                if (at != 0) heap.free(heap.pageOf(at));
                for (int i = 1; i < runs.length; i += 2) heap.free(heap.pageOf(runs[i]));
                heap.purgeAll();
                assertThat(heap.committedPages()).isZero();
            });
        }
    }

    /**
     * {@link PageGathering#BOUNDED} against {@link PageGathering#AT_EVERY_PEAK}, step by step. Ten 4-page dirty runs
     * between 1-page used runs (committed 50 pages, the peak). A 12-page block: no dirty run holds it, and it would
     * take committed pages to 62, a new height: both modes move three runs into it (committed stays 50; the mark
     * becomes 62). A 10-page block then: it would take committed pages to 60, past their peak (50) but not past the
     * height the heap would have without the first gathering (62): AT_EVERY_PEAK moves two runs again, BOUNDED takes
     * new pages (committed 60). A 16-page block last: 76 pages would be a new height in both, and both gather.
     */
    @Test
    void boundedGatheringWaitsForANewHeight() {
        for (PageGathering mode : new PageGathering[] {PageGathering.BOUNDED, PageGathering.AT_EVERY_PEAK}) {
            withLongDecay(heap -> {
                heap.pageGathering(mode);
                boolean bounded = mode == PageGathering.BOUNDED;
                long[] runs = new long[20];
                for (int i = 0; i < runs.length; i++) {
                    long pages = i % 2 == 0 ? 4 : 1;
                    runs[i] = heap.allocateBlock(pages, 4096, pages * 4096) & ~PageHeap.FRESH;
                }
                for (int i = 0; i < runs.length; i += 2) heap.free(heap.pageOf(runs[i]));
                assertThat(heap.committedPages()).isEqualTo(50);
                long a = heap.allocateBlock(12, 4096, 12 * 4096);
                assertThat(heap.gatherCounts()).as("%s: a new height", mode).containsExactly(12, 3);
                assertThat(heap.committedPages()).isEqualTo(50);
                long c = heap.allocateBlock(10, 4096, 10 * 4096);
                if (bounded) {
                    assertThat(c & PageHeap.FRESH).as("new pages, nothing moved").isNotZero();
                    assertThat(heap.gatherCounts()).containsExactly(12, 3);
                    assertThat(heap.committedPages()).isEqualTo(60);
                } else {
                    assertThat(heap.gatherCounts()).as("past the peak: moved again").containsExactly(20, 5);
                    assertThat(heap.committedPages()).isEqualTo(52);
                }
                long d = heap.allocateBlock(16, 4096, 16 * 4096);
                assertThat(heap.gatherCounts()[1]).as("%s: a new height again", mode).isEqualTo(bounded ? 7 : 9);
                for (long r : new long[] {a, c, d}) heap.free(heap.pageOf(r & ~PageHeap.FRESH));
                for (int i = 1; i < runs.length; i += 2) heap.free(heap.pageOf(runs[i]));
            });
        }
    }

    /**
     * Allocates {@code 2 * GATHER_RUNS} two-page runs side by side, writes each page (resident, marked with the run's
     * number), and frees every other one: {@code GATHER_RUNS} resident two-page dirty runs between used runs, for a
     * gathering to move. @return the runs' addresses
     */
    static long[] residentDirtyRunsBetweenUsedOnes(PageHeap heap) {
        long[] runs = new long[2 * PageHeap.GATHER_RUNS];
        for (int i = 0; i < runs.length; i++) {
            runs[i] = heap.allocateBlock(2, 4096, 2 * 4096) & ~PageHeap.FRESH;
            Memory.putLong(runs[i], i + 1L);
            Memory.putLong(runs[i] + 4096, i + 1L);
        }
        for (int i = 0; i < runs.length; i += 2) heap.free(heap.pageOf(runs[i]));
        return runs;
    }

    private static long marker(int run, int page) {
        return 0x5EED_0000_0000L | (long) run << 16 | page;
    }

    /**
     * Every moved piece is a kernel mapping of its own; purging the pages maps fresh ones over them, which joins the
     * mappings again, so that a heap that gathers does not run the process out of mappings.
     */
    @Test
    void purgingGatheredPagesJoinsTheirMappingsAgain() {
        withLongDecay(heap -> {
            heap.pageGathering(PageGathering.AT_EVERY_PEAK);
            long[] runs = residentDirtyRunsBetweenUsedOnes(heap);
            int before = Os.mappingCount();
            long block = heap.allocateBlock(2L * PageHeap.GATHER_RUNS, 4096, 2L * PageHeap.GATHER_RUNS * 4096);
            assertThat(heap.gatherCounts()).containsExactly(2L * PageHeap.GATHER_RUNS, PageHeap.GATHER_RUNS);
            int during = Os.mappingCount();
            assertThat(during).as("a mapping a moved piece").isGreaterThanOrEqualTo(before + PageHeap.GATHER_RUNS / 2);
            heap.free(heap.pageOf(block & ~PageHeap.FRESH));
            heap.purgeAll();
            assertThat(Os.mappingCount()).as("joined again").isLessThanOrEqualTo(during - PageHeap.GATHER_RUNS / 2);
            for (int i = 1; i < runs.length; i += 2) heap.free(heap.pageOf(runs[i]));
        });
    }

    /**
     * A run that must grow and cannot grow in place moves its pages to a new run when its old place would be given
     * back at once anyway (a run of the release threshold or more, or any run of {@link PageHeap#RELOCATE_PAGES} or
     * more with a decay time of 0): its bytes arrive without a copy, its old place reads as
     * zero and is a clean free run, and committed pages never count both. A shorter run, or one whose old place the
     * decay keeps resident for reuse, is declined (the caller copies).
     */
    @Test
    void aRunThatCannotGrowInPlaceMovesItsPagesWhenItsOldPlaceWouldBeGivenBack() {
        withPageHeap(16L << 12, Long.MAX_VALUE / 4, heap -> {
            long spare = heap.allocateBlock(60, 4096, 60 * 4096) & ~PageHeap.FRESH;
            long guard0 = heap.allocateBlock(1, 4096, 4096) & ~PageHeap.FRESH;
            Memory.putLong(spare, 1);
            long a = heap.allocateBlock(20, 4096, 20 * 4096) & ~PageHeap.FRESH;
            long guard = heap.allocateBlock(1, 4096, 4096) & ~PageHeap.FRESH;
            heap.free(heap.pageOf(spare)); // 60 pages: given back at once (over the 16-page threshold)
            assertThat(heap.dirtyBytes()).isZero();
            Memory.putLong(guard0, 2);
            long small = heap.allocateBlock(15, 4096, 15 * 4096) & ~PageHeap.FRESH;
            heap.free(heap.pageOf(small)); // 15 dirty pages, kept
            for (int p = 0; p < 20; p++) Memory.putLong(a + p * 4096L + 8, marker(0, p));
            long committedBefore = heap.committedPages();
            long peak = heap.peakCommittedBytes() >>> 12;
            long moved = heap.relocate(heap.pageOf(a), 50, 50 * 4096);
            assertThat(moved & PageHeap.MOVED).as("moved, not declined").isNotZero();
            long to = moved & ~PageHeap.MOVED;
            assertThat(to).isNotEqualTo(a);
            for (int p = 0; p < 20; p++) assertThat(Memory.getLong(to + p * 4096L + 8)).isEqualTo(marker(0, p));
            for (int p = 0; p < 20; p++) assertThat(Memory.getLong(a + p * 4096L + 8)).as("old place").isZero();
            assertThat(heap.relocationCounts()).containsExactly(1, 20);
            assertThat(heap.committedPages()).as("grown by 30 pages, the old 20 given back")
                    .isEqualTo(committedBefore + 30);
            assertThat(heap.peakCommittedBytes() >>> 12).as("never the old run and the new one together")
                    .isEqualTo(Math.max(peak, committedBefore + 30));
            assertThat(heap.isBlockStart(a)).isFalse();
            assertThat(heap.isBlockStart(to)).isTrue();
            assertThat(heap.checkInvariants()).isNull();

            // Below the threshold: declined, whatever the decay.
            long b = heap.allocateBlock(15, 4096, 15 * 4096) & ~PageHeap.FRESH;
            long guard2 = heap.allocateBlock(1, 4096, 4096) & ~PageHeap.FRESH;
            assertThat(heap.relocate(heap.pageOf(b), 40, 40 * 4096)).isZero();
            assertThat(heap.relocationCounts()).containsExactly(1, 20);
            for (long r : new long[] {b, guard2, to, guard, guard0}) heap.free(heap.pageOf(r));
        });
        // A run under the release threshold, with a decay time: its old place stays resident, so it is copied.
        withLongDecay(heap -> {
            long a = heap.allocateBlock(100, 4096, 100 * 4096) & ~PageHeap.FRESH;
            long guard = heap.allocateBlock(1, 4096, 4096) & ~PageHeap.FRESH;
            assertThat(heap.relocate(heap.pageOf(a), 200, 200 * 4096)).isZero();
            assertThat(heap.relocationCounts()).containsExactly(0, 0);
            heap.free(heap.pageOf(a));
            heap.free(heap.pageOf(guard));
        });
        // A decay time of 0: every run of 16 pages or more moves.
        withPageHeap(1L << 40, 0, heap -> {
            long a = heap.allocateBlock(16, 4096, 16 * 4096) & ~PageHeap.FRESH;
            long guard = heap.allocateBlock(1, 4096, 4096) & ~PageHeap.FRESH;
            Memory.putLong(a + 15 * 4096L, 77);
            long moved = heap.relocate(heap.pageOf(a), 17, 17 * 4096);
            assertThat(moved & PageHeap.MOVED).isNotZero();
            assertThat(Memory.getLong((moved & ~PageHeap.MOVED) + 15 * 4096L)).isEqualTo(77);
            heap.free(heap.pageOf(moved & ~PageHeap.MOVED));
            heap.free(heap.pageOf(guard));
            assertThat(heap.committedPages()).isZero();
        });
    }

    /**
     * A huge run (the release threshold or more) goes back at once when freed; asked for again within the decay time,
     * runs up to its size wait for the decay time from then on, so that a loop of malloc and free of one huge block
     * reuses resident pages; a larger run still goes back at once, and a retained run that expires unused ends it.
     * Timed by a manual clock: the steps take no time unless the test says so.
     */
    @Test
    void hugeRunsAskedForAgainSoonAfterTheirReleaseWaitForTheDecayTime() {
        Duration decay = Duration.ofMillis(300);
        ManualClock clock = new ManualClock();
        withPageHeap(Long.MAX_VALUE, 64L << 12, decay.toNanos(), clock, heap -> {
            long a = heap.allocateBlock(100, 4096, 100 << 12) & ~PageHeap.FRESH;
            heap.free(heap.pageOf(a));
            assertThat(heap.dirtyBytes()).as("the first huge run freed goes back at once").isZero();
            assertThat(heap.retainedHugePages()).isZero();
            long purges = heap.purgeCount();

            clock.advance(decay.minusMillis(1)); // asked for again within the window
            long b = heap.allocateBlock(100, 4096, 100 << 12) & ~PageHeap.FRESH;
            assertThat(heap.retainedHugePages()).as("asked for again: retained from now on").isEqualTo(100);
            heap.free(heap.pageOf(b));
            assertThat(heap.dirtyBytes()).isEqualTo(100L << 12);
            assertThat(heap.purgeCount()).isEqualTo(purges);
            long c = heap.allocateBlock(100, 4096, 100 << 12);
            assertThat(c & PageHeap.FRESH).as("the next one reuses the resident pages").isZero();

            long d = heap.allocateBlock(200, 4096, 200 << 12) & ~PageHeap.FRESH;
            heap.free(heap.pageOf(d));
            assertThat(heap.dirtyBytes()).as("a larger huge run still goes back at once").isZero();
            assertThat(heap.purgeCount()).isEqualTo(purges + 1);

            // A kept huge run that cannot hold a huge request goes back before the request takes clean pages.
            long c2 = heap.allocateBlock(100, 4096, 100 << 12) & ~PageHeap.FRESH;
            heap.free(heap.pageOf(c2));
            assertThat(heap.dirtyBytes()).isEqualTo(100L << 12);
            long f = heap.allocateBlock(150, 4096, 150 << 12) & ~PageHeap.FRESH;
            assertThat(heap.dirtyBytes()).as("the kept run, too small for 150 pages, was given back").isZero();
            assertThat(heap.committedPages()).isEqualTo(100 + 150);
            assertThat(heap.retainedHugePages()).as("150 pages asked for after 200 went back").isEqualTo(150);
            heap.free(heap.pageOf(f));
            assertThat(heap.dirtyBytes()).isEqualTo(150L << 12);

            heap.free(heap.pageOf(c));
            assertThat(heap.dirtyBytes()).isEqualTo(250L << 12);
            clock.advance(decay.minusMillis(1));
            heap.purgeExpired();
            assertThat(heap.dirtyBytes()).as("a millisecond before their decay time: kept").isEqualTo(250L << 12);
            clock.advance(Duration.ofMillis(1)); // the runs' decay time has passed
            heap.purgeExpired();
            assertThat(heap.dirtyBytes()).isZero();
            assertThat(heap.retainedHugePages()).as("expired unused: back to releasing at once").isZero();
            clock.advance(Duration.ofMillis(1)); // past the window since the last huge release (d's)
            long e = heap.allocateBlock(100, 4096, 100 << 12) & ~PageHeap.FRESH;
            assertThat(heap.retainedHugePages()).as("a request long after the last release retains nothing").isZero();
            heap.free(heap.pageOf(e));
            assertThat(heap.dirtyBytes()).isZero();
        });
    }

    /**
     * The kept huge runs go back before a huge request that none of them holds takes clean pages, also when the
     * release threshold is not where a list of the dirty index starts: that list then holds huge runs and shorter
     * ones, and a good-fit search for the threshold, which looks only at the list's head, missed a huge run behind a
     * shorter one (here a threshold of 130 pages, in the list of 128 to 135 pages: a kept run of 133 pages behind a
     * freed run of 129 stayed committed beside the new 200-page run).
     */
    @Test
    void keptHugeRunsGoBackBeforeAHugeRequestWhateverTheirPlaceInTheDirtyIndex() {
        withPageHeap(130L << 12, Long.MAX_VALUE / 4, heap -> {
            long small = heap.allocateBlock(129, 4096, 129 << 12) & ~PageHeap.FRESH; // not huge: kept when freed
            heap.allocateBlock(1, 4096, 4096); // guards, so that no two freed runs merge
            long a = heap.allocateBlock(133, 4096, 133 << 12) & ~PageHeap.FRESH;
            heap.free(heap.pageOf(a)); // the first huge run freed goes back at once
            a = heap.allocateBlock(133, 4096, 133 << 12) & ~PageHeap.FRESH; // asked for again: kept from now on
            heap.allocateBlock(1, 4096, 4096);
            assertThat(heap.retainedHugePages()).isEqualTo(133);
            heap.free(heap.pageOf(a));
            heap.free(heap.pageOf(small)); // the head of the list both runs are in
            assertThat(heap.dirtyBytes()).isEqualTo((133L + 129) << 12);

            heap.allocateBlock(200, 4096, 200 << 12);
            assertThat(heap.dirtyBytes()).as("the kept 133-page run went back; the 129-page run waits its decay time")
                    .isEqualTo(129L << 12);
        });
    }

    /**
     * A realloc that cannot grow its page run in place asks whether the block could move before it grows the run
     * across the free runs after it: with a clean run that holds the new size and room under the limit it can, and
     * that answer costs O(1) whatever the holes. It walked the dirty runs of the new size's TLSF list first, every
     * one of them shorter than the new size (a heap that freed many blocks a few pages shorter), on every such
     * realloc: the work grew with the number of holes.
     */
    @Test
    void aGrowthThatCanMoveDoesNotWalkTheDirtyRunsOfItsSize() {
        withLongDecay(heap -> {
            long block = heap.allocateBlock(32, 4096, 32 << 12) & ~PageHeap.FRESH;
            heap.allocateBlock(1, 4096, 4096); // a guard: the block cannot grow in place
            int holes = 1000;
            long[] runs = new long[holes];
            for (int i = 0; i < holes; i++) {
                runs[i] = heap.allocateBlock(32, 4096, 32 << 12) & ~PageHeap.FRESH; // 32 and 33 pages: one TLSF list
                assertThat(runs[i]).isNotZero();
                heap.allocateBlock(1, 4096, 4096); // guards, so that no two freed runs merge
            }
            for (long r : runs) heap.free(heap.pageOf(r));
            assertThat(heap.dirtyBytes()).isEqualTo(32L * holes << 12);
            long walked = heap.runsWalked();
            for (int i = 0; i < 100; i++) {
                assertThat(heap.growAcrossRunsIfNowhereElse(heap.pageOf(block), 33, 33 << 12))
                        .as("it can move: clean pages hold it").isFalse();
            }
            assertThat(heap.runsWalked() - walked).as("runs visited by 100 such reallocs").isLessThan(100);
        });
    }

    /**
     * A run that relocate took for a block the kernel then refused to move, and that holds committed pages over the
     * limit beside the block still at its old place, goes back at once: not kept dirty as a huge run freed after a
     * loop is (committed pages would stay over the limit, and the caller's copy would take that dirty run without
     * looking at the limit), and not counted as a huge run the program gave back (its next request would then start
     * retaining huge runs). The kernel is made to refuse by a hole at the start of the block.
     */
    /**
     * With the reservation nearly used up, a request that no good fit holds is served by the last resort, a run long
     * enough behind shorter ones in its TLSF list (here 33-page runs behind 1,800 of 32 pages, one list), in
     * O(log runs). It walked the list, every shorter run, on every such request.
     */
    @Test
    void theLastResortFitDoesNotWalkTheShorterRunsOfItsList() {
        withLongDecay(heap -> {
            long[] longer = new long[100], shorter = new long[1800];
            for (int i = 0; i < longer.length; i++) longer[i] = blockWithGuard(heap, 33);
            for (int i = 0; i < shorter.length; i++) shorter[i] = blockWithGuard(heap, 32);
            long rest = PAGES - (heap.committedBytes() >>> 12);
            assertThat(heap.allocateBlock(rest, 4096, rest << 12)).as("the rest of the reservation").isNotZero();
            for (long a : longer) heap.free(heap.pageOf(a)); // first: the 32-page runs come before them in the list
            for (long a : shorter) heap.free(heap.pageOf(a));
            long walked = heap.runsWalked();
            for (int i = 0; i < longer.length; i++) {
                assertThat(heap.allocateBlock(33, 4096, 33 << 12)).as("request %d: a 33-page run is free", i)
                        .isNotZero();
            }
            assertThat(heap.runsWalked() - walked).as("runs visited by 100 such requests").isLessThan(100 * 32);
            assertThat(heap.allocateBlock(33, 4096, 33 << 12)).as("no run of 33 pages is left").isZero();
        });
    }

    /**
     * A huge request that no dirty run holds gives back the huge runs kept for a loop; with the release threshold
     * inside a TLSF list (130 pages: the list of 128 to 135), the runs of that list under it are not huge. Finding the
     * huge ones costs O(log runs): it walked every shorter run of the list, on every such request.
     */
    @Test
    void aHugeRequestDoesNotWalkTheDirtyRunsUnderTheThreshold() {
        withPageHeap(130L << 12, Long.MAX_VALUE / 4, heap -> {
            long[] runs = new long[400];
            for (int i = 0; i < runs.length; i++) runs[i] = blockWithGuard(heap, 129); // not huge: kept when freed
            for (long a : runs) heap.free(heap.pageOf(a));
            long walked = heap.runsWalked();
            for (int i = 0; i < 20; i++) assertThat(heap.allocateBlock(200, 4096, 200 << 12)).isNotZero();
            assertThat(heap.runsWalked() - walked).as("runs visited by 20 huge requests").isLessThan(20 * 32);
            assertThat(heap.dirtyBytes()).as("the 129-page runs wait their decay time").isEqualTo(129L * 400 << 12);
        });
    }

    /**
     * A refusal's message names the largest free run (HeapCore.exhausted), found in O(log runs): it walked the
     * highest non-empty TLSF list, here 1,000 runs of 32 and 33 pages, on every refused request.
     */
    @Test
    void theLargestFreeRunIsFoundWithoutWalkingItsList() {
        withLongDecay(heap -> {
            long[] runs = new long[1000];
            for (int i = 0; i < runs.length; i++) runs[i] = blockWithGuard(heap, 32 + (i & 1));
            long rest = PAGES - (heap.committedBytes() >>> 12);
            assertThat(heap.allocateBlock(rest, 4096, rest << 12)).as("the rest of the reservation").isNotZero();
            for (long a : runs) heap.free(heap.pageOf(a));
            long walked = heap.runsWalked();
            for (int i = 0; i < 100; i++) {
                assertThat(heap.largestDirtyBytes()).isEqualTo(33L << 12);
                assertThat(heap.largestFreeBytes()).isEqualTo(33L << 12);
            }
            assertThat(heap.runsWalked() - walked).as("runs visited by 200 such looks").isLessThan(200 * 32);
        });
    }

    /** @return a block of {@code pages} pages followed by a one-page guard, so that freed blocks never merge */
    private static long blockWithGuard(PageHeap heap, long pages) {
        long a = heap.allocateBlock(pages, 4096, pages << 12) & ~PageHeap.FRESH;
        assertThat(a).isNotZero();
        assertThat(heap.allocateBlock(1, 4096, 4096)).isNotZero();
        return a;
    }

    @Test
    void aRelocationRefusedOverTheLimitGivesItsNewRunBackAtOnce() {
        withLimitedPageHeap(40, heap -> {
            long h = heap.allocateBlock(40, 4096, 40 * 4096) & ~PageHeap.FRESH;
            heap.free(heap.pageOf(h)); // given back at once
            h = heap.allocateBlock(40, 4096, 40 * 4096) & ~PageHeap.FRESH; // asked for again: retained from now on
            heap.free(heap.pageOf(h));
            heap.purgeAll();
            assertThat(heap.retainedHugePages()).isEqualTo(40);
            long b = heap.allocateBlock(20, 4096, 20 * 4096) & ~PageHeap.FRESH;
            heap.allocateBlock(1, 4096, 4096);
            Os.unmap(b, 4096); // mremap refuses a source that does not start with a mapping
            assertThat(heap.relocate(heap.pageOf(b), 30, 30 * 4096)).as("refused; a copy does not fit").isZero();
            assertThat(heap.committedPages()).as("within the limit").isEqualTo(21);
        });
        withLimitedPageHeap(40, heap -> {
            long b = heap.allocateBlock(20, 4096, 20 * 4096) & ~PageHeap.FRESH;
            heap.allocateBlock(1, 4096, 4096);
            Os.unmap(b, 4096);
            assertThat(heap.relocate(heap.pageOf(b), 30, 30 * 4096)).isZero();
            assertThat(heap.committedPages()).isEqualTo(21);
            assertThat(heap.allocateBlock(30, 4096, 30 * 4096)).as("the copy the caller tries: over the limit").isZero();
            assertThat(heap.retainedHugePages()).as("no huge run of the program's went back").isZero();
        });
    }

    /**
     * The resident bytes of a heap whose live runs alternate with runs given back (decay 0, every other block freed):
     * {@code stats()} read them with a {@code mincore} call per stretch of committed pages, one per live run here, so
     * that a fragmented heap of 50,000 runs took half a second a call. Clean runs read as not resident, so a short
     * one is read through: the count is the same, with one call.
     */
    @Test
    void residentBytesReadsThroughShortCleanRuns() {
        withPageHeap(1L << 40, 0, heap -> {
            long[] blocks = new long[2000];
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = heap.allocateBlock(1, 4096, 4096) & ~PageHeap.FRESH;
                Memory.putLong(blocks[i], i + 1);
            }
            for (int i = 0; i < blocks.length; i += 2) heap.free(heap.pageOf(blocks[i])); // purged at once
            assertThat(heap.dirtyBytes()).isZero();
            assertThat(heap.residentBytes()).isEqualTo(1000L * 4096);
            assertThat(heap.committedSpans().length / 2).as("stretches read by a mincore call each").isEqualTo(1);
            for (int i = 1; i < blocks.length; i += 2) heap.free(heap.pageOf(blocks[i]));
            assertThat(heap.residentBytes()).isZero();
        });
    }

    /** Runs {@code body} under the lock of a page layer limited to {@code limitPages}, 16-page threshold, no decay. */
    private static void withLimitedPageHeap(long limitPages, java.util.function.Consumer<PageHeap> body) {
        withPageHeap(limitPages << 12, 16L << 12, Long.MAX_VALUE / 4, body);
    }

    /**
     * An aligned block freed and asked for again reuses its dirty run, which is aligned as before: the free runs an
     * aligned request may take are not only those long enough for any alignment of their start. Else each turn of a
     * loop took clean pages past a gap left by the alignment and left one more dirty run of the block's size
     * committed for the decay time.
     */
    @Test
    void anAlignedBlockFreedAndAllocatedInALoopReusesItsDirtyRun() {
        withLongDecay(heap -> {
            long pages = 5121; // 20 MiB and a page: the next 2 MiB boundary after one such run is 511 pages further
            long alignment = 2L << 20;
            long first = heap.allocateBlock(pages, alignment, pages << 12) & ~PageHeap.FRESH;
            heap.free(heap.pageOf(first));
            for (int i = 0; i < 8; i++) {
                long a = heap.allocateBlock(pages, alignment, pages << 12);
                assertThat(a & PageHeap.FRESH).as("turn %d: from the dirty run", i).isZero();
                assertThat(a).isEqualTo(first);
                heap.free(heap.pageOf(a));
            }
            assertThat(heap.dirtyBytes()).as("one run kept, not one a turn").isEqualTo(pages << 12);
        });
    }

    /**
     * The keeping of huge runs ends on trim(), and when no huge request has gone on with it for the decay time (at
     * most a second): a block that then lived longer than that goes back at once when freed.
     */
    @Test
    void keepingHugeRunsEndsOnTrimAndWhenTheLoopStops() {
        Duration decay = Duration.ofMillis(200);
        ManualClock clock = new ManualClock();
        withPageHeap(Long.MAX_VALUE, 64L << 12, decay.toNanos(), clock, heap -> {
            for (int turn = 0; turn < 2; turn++) heap.free(heap.pageOf(heap.allocateBlock(100, 4096, 100 << 12) & ~PageHeap.FRESH));
            assertThat(heap.retainedHugePages()).isEqualTo(100);
            heap.trim();
            assertThat(heap.retainedHugePages()).as("trim() ends it").isZero();
            heap.free(heap.pageOf(heap.allocateBlock(100, 4096, 100 << 12) & ~PageHeap.FRESH));
            assertThat(heap.dirtyBytes()).as("freed after trim(): back at once").isZero();

            long a = heap.allocateBlock(100, 4096, 100 << 12) & ~PageHeap.FRESH; // soon after a release: kept again
            assertThat(heap.retainedHugePages()).isEqualTo(100);
            clock.advance(decay.plusMillis(1)); // no huge request for the whole window
            heap.free(heap.pageOf(a));
            assertThat(heap.dirtyBytes()).as("the loop stopped: back at once").isZero();
            assertThat(heap.retainedHugePages()).isZero();
        });
    }

    /** An aligned huge block freed and allocated in a loop: the run kept for the loop holds it, and is not given back. */
    @Test
    void anAlignedHugeBlockInALoopReusesTheRunKeptForIt() {
        withPageHeap(64L << 12, Long.MAX_VALUE / 4, heap -> {
            long alignment = 64L << 12;
            for (int turn = 0; turn < 2; turn++) { // the first free goes back, the second request starts the keeping
                long a = heap.allocateBlock(100, alignment, 100 << 12) & ~PageHeap.FRESH;
                heap.free(heap.pageOf(a));
            }
            assertThat(heap.dirtyBytes()).isEqualTo(100L << 12);
            long purges = heap.purgeCount();
            long b = heap.allocateBlock(100, alignment, 100 << 12);
            assertThat(b & PageHeap.FRESH).as("from the kept run").isZero();
            assertThat((b & ~PageHeap.FRESH) % alignment).isZero();
            assertThat(heap.purgeCount()).isEqualTo(purges);
            heap.free(heap.pageOf(b & ~PageHeap.FRESH));
        });
    }

    /** Runs {@code body} under the lock of a page layer whose free runs never decay, then checks its invariants. */
    private static void withLongDecay(java.util.function.Consumer<PageHeap> body) {
        withPageHeap(1L << 40, Long.MAX_VALUE / 4, body);
    }

    /** Runs {@code body} under the lock of a page layer with this release threshold and decay, then checks it. */
    private static void withPageHeap(long releaseBytes, long decayNanos, java.util.function.Consumer<PageHeap> body) {
        withPageHeap(Long.MAX_VALUE, releaseBytes, decayNanos, body);
    }

    /** As above, with a cap on committed bytes. */
    private static void withPageHeap(long limitBytes, long releaseBytes, long decayNanos,
            java.util.function.Consumer<PageHeap> body) {
        withPageHeap(limitBytes, releaseBytes, decayNanos, System::nanoTime, body);
    }

    /** As above, with the clock that the decay times are measured by. */
    private static void withPageHeap(long limitBytes, long releaseBytes, long decayNanos,
            java.util.function.LongSupplier clock, java.util.function.Consumer<PageHeap> body) {
        long base = Os.reserve((long) PAGES << 12, 1L << 22);
        PageHeap heap = new PageHeap(base, PAGES, limitBytes, decayNanos, releaseBytes, clock);
        heap.lock().lock();
        try {
            body.accept(heap);
            assertThat(heap.checkInvariants()).isNull();
        } finally {
            heap.lock().unlock();
            heap.release();
            Os.unmap(base, (long) PAGES << 12);
        }
    }

    @Property(tries = 30)
    void randomOperationsKeepRunsDisjointAndInvariantsTrue(@ForAll @LongRange(min = 0, max = 1 << 30) long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        long decay = switch (rnd.nextInt(3)) {
            case 0 -> 0L;
            case 1 -> Long.MAX_VALUE / 4;
            default -> 1_000L;
        };
        long base = Os.reserve((long) PAGES << 12, 1L << 22);
        PageHeap heap = new PageHeap(base, PAGES, Long.MAX_VALUE, decay, 64L << 12);
        heap.pageGathering(PageGathering.values()[rnd.nextInt(PageGathering.values().length)]);
        List<long[]> live = new ArrayList<>(); // {page, pages}
        BitSet used = new BitSet(PAGES);
        try {
            heap.lock().lock();
            for (int step = 0; step < 6000; step++) {
                int op = rnd.nextInt(10);
                if (op < 5 || live.isEmpty()) {
                    long pages = 1 + (rnd.nextInt(8) == 0 ? rnd.nextInt(200) : rnd.nextInt(6));
                    long align = rnd.nextInt(6) == 0 ? (4096L << rnd.nextInt(6)) : 4096;
                    boolean block = rnd.nextBoolean();
                    if (!block) align = 4096;
                    long a = block ? heap.allocateBlock(pages, align, pages * 4096) : heap.allocateSlab(pages);
                    assertThat(a).as("allocation of %d pages", pages).isNotZero();
                    long addr = a & ~PageHeap.FRESH;
                    assertThat(addr % align).isZero();
                    int page = heap.pageOf(addr);
                    assertThat(used.get(page, (int) (page + pages)).isEmpty()).as("overlap at page %d", page).isTrue();
                    used.set(page, (int) (page + pages));
                    live.add(new long[] {page, pages});
                } else if (op < 9) {
                    long[] run = live.remove(rnd.nextInt(live.size()));
                    used.clear((int) run[0], (int) (run[0] + run[1]));
                    heap.free((int) run[0]);
                } else if (rnd.nextBoolean()) {
                    heap.purgeAll();
                } else {
                    int i = rnd.nextInt(live.size());
                    long[] run = live.get(i);
                    if (!heap.isBlockStart(heap.address((int) run[0]))) continue; // slabs are not resized
                    long target = Math.max(1, run[1] + rnd.nextInt(21) - 10);
                    used.clear((int) run[0], (int) (run[0] + run[1]));
                    boolean free = used.get((int) run[0], (int) Math.min(PAGES, run[0] + target)).isEmpty();
                    boolean ok = run[0] + target <= PAGES && heap.resize((int) run[0], target, target * 4096);
                    if (ok) {
                        assertThat(free).as("resize into used pages").isTrue();
                        run[1] = target;
                    }
                    used.set((int) run[0], (int) (run[0] + run[1]));
                    if (!ok && target > run[1] && rnd.nextBoolean()) {
                        // Grow it elsewhere: by moving its pages, or declined (then as a copying realloc would).
                        long last = (run[1] - 1) * 4096; // a word on the run's last page
                        Memory.putLong(heap.address((int) run[0]) + last, run[0] ^ 0x5A5AL);
                        long moved = heap.relocate((int) run[0], target, target * 4096);
                        if (moved == 0) continue;
                        long to = moved & ~PageHeap.MOVED;
                        int page = heap.pageOf(to);
                        used.clear((int) run[0], (int) (run[0] + run[1]));
                        if ((moved & PageHeap.MOVED) != 0) {
                            assertThat(Memory.getLong(to + last)).as("moved bytes").isEqualTo(run[0] ^ 0x5A5AL);
                        } else {
                            heap.free((int) run[0]);
                        }
                        assertThat(used.get(page, (int) (page + target)).isEmpty()).as("overlap at page %d", page)
                                .isTrue();
                        used.set(page, (int) (page + target));
                        run[0] = page;
                        run[1] = target;
                    }
                }
                if (step % 50 == 0) assertThat(heap.checkInvariants()).isNull();
                long usedPages = live.stream().mapToLong(r -> r[1]).sum();
                assertThat(heap.committedPages()).isGreaterThanOrEqualTo(usedPages);
            }
            assertThat(heap.checkInvariants()).isNull();
            for (long[] run : live) heap.free((int) run[0]);
            heap.purgeAll();
            assertThat(heap.committedPages()).isZero();
            assertThat(heap.checkInvariants()).isNull();
        } finally {
            heap.lock().unlock();
            heap.release();
            Os.unmap(base, (long) PAGES << 12);
        }
    }
}
