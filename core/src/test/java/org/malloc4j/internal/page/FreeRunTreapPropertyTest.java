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
import org.malloc4j.ManualClock;
import org.malloc4j.PageGathering;
import org.malloc4j.internal.os.Os;

/**
 * The free-run indexes' treaps (runs of 32 pages or more, linked through each run's second page record) against every
 * transition that changes a free run: splits by allocations (aligned too) and in-place growth, merges on free and
 * shrink, growth across several free runs, moves of pages (relocation, gathering), dirty runs purged by decay, by a
 * huge request, by the limit's last resort and by trim. Long runs and a tight limit, so that the treaps stay full and
 * the last-resort searches run; {@link PageHeap#checkInvariants} (which checks each treap's order, priorities and
 * exact contents) after every step, not every fiftieth as {@code PageHeapTest}'s property does.
 */
class FreeRunTreapPropertyTest {
    private static final int PAGES = 1 << 13; // 32 MiB of address space

    @Property(tries = 20)
    void everyFreeRunTransitionKeepsTheTreapsExact(@ForAll @LongRange(min = 0, max = 1 << 30) long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        ManualClock clock = new ManualClock();
        long decay = rnd.nextBoolean() ? 1_000_000L : 0L;
        long limit = rnd.nextBoolean() ? (long) (PAGES * 3 / 4) << 12 : Long.MAX_VALUE;
        long base = Os.reserve((long) PAGES << 12, 1L << 22);
        PageHeap heap = new PageHeap(base, PAGES, limit, decay, 96L << 12, clock);
        heap.pageGathering(PageGathering.values()[rnd.nextInt(PageGathering.values().length)]);
        List<long[]> live = new ArrayList<>(); // {page, pages, isBlock}
        BitSet used = new BitSet(PAGES);
        try {
            heap.lock().lock();
            for (int step = 0; step < 4000; step++) {
                int op = rnd.nextInt(16);
                if (op < 6 || live.isEmpty()) {
                    long pages = rnd.nextInt(4) == 0 ? 1 + rnd.nextInt(8) : 20 + rnd.nextInt(rnd.nextBoolean() ? 60 : 400);
                    boolean block = rnd.nextInt(4) != 0;
                    long align = block && rnd.nextInt(5) == 0 ? (4096L << rnd.nextInt(7)) : 4096;
                    long a = block ? heap.allocateBlock(pages, align, pages * 4096) : heap.allocateSlab(pages);
                    if (a == 0) continue; // refused at the limit or out of address space
                    long addr = a & ~PageHeap.FRESH;
                    assertThat(addr % align).isZero();
                    int page = heap.pageOf(addr);
                    assertThat(used.get(page, (int) (page + pages)).isEmpty()).as("overlap at page %d", page).isTrue();
                    used.set(page, (int) (page + pages));
                    live.add(new long[] {page, pages, block ? 1 : 0});
                } else if (op < 11) {
                    long[] run = live.remove(rnd.nextInt(live.size()));
                    used.clear((int) run[0], (int) (run[0] + run[1]));
                    heap.free((int) run[0]);
                } else if (op < 14) {
                    long[] run = live.get(rnd.nextInt(live.size()));
                    if (run[2] == 0) continue; // slabs are not resized
                    long target = Math.max(1, run[1] + rnd.nextInt(161) - 60);
                    used.clear((int) run[0], (int) (run[0] + run[1]));
                    boolean ok = run[0] + target <= PAGES && heap.resize((int) run[0], target, target * 4096);
                    if (!ok && target > run[1]) {
                        ok = heap.growAcrossRunsIfNowhereElse((int) run[0], target, target * 4096);
                    }
                    if (ok) {
                        assertThat(used.get((int) run[0], (int) (run[0] + target)).isEmpty()).as("resize into used")
                                .isTrue();
                        run[1] = target;
                    } else if (target > run[1] && rnd.nextBoolean()) {
                        long moved = heap.relocate((int) run[0], target, target * 4096);
                        if (moved != 0) {
                            if ((moved & PageHeap.MOVED) == 0) heap.free((int) run[0]);
                            int page = heap.pageOf(moved & ~PageHeap.MOVED);
                            assertThat(used.get(page, (int) (page + target)).isEmpty()).as("overlap at page %d", page)
                                    .isTrue();
                            run[0] = page;
                            run[1] = target;
                        }
                    }
                    used.set((int) run[0], (int) (run[0] + run[1]));
                } else if (op == 14) {
                    clock.advance(Duration.ofNanos(rnd.nextLong(2_000_000L)));
                    heap.purgeExpired();
                } else if (rnd.nextBoolean()) {
                    heap.trim();
                } else {
                    heap.purgeAll();
                }
                String broken = heap.checkInvariants();
                assertThat(broken).as("step %d", step).isNull();
            }
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
