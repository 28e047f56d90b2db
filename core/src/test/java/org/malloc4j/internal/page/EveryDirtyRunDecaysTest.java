package org.malloc4j.internal.page;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.malloc4j.ManualClock;
import org.malloc4j.PageGathering;
import org.malloc4j.internal.os.Os;

/**
 * The decay stamps kept in the page map (word 3's upper half, 2026-12-07): whatever path made a dirty run (a split by
 * an aligned allocation, a merge, a shrink or a growth in place, a growth across runs, a relocation, a gathering), its
 * decay entry stands for it, so that every dirty run is purged once its decay time has passed, and no stale entry
 * purges anything else (the invariants hold). A guard written in a review; it passed.
 */
class EveryDirtyRunDecaysTest {
    private static final int PAGES = 1 << 16;

    @Test
    void everyDirtyRunIsPurgedOnceItsDecayTimeHasPassed() {
        for (long seed = 0; seed < 40; seed++) run(seed);
    }

    private static void run(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        ManualClock clock = new ManualClock();
        long decay = 1_000_000L;
        long base = Os.reserve((long) PAGES << 12, 1L << 22);
        PageHeap heap = new PageHeap(base, PAGES, Long.MAX_VALUE, decay, 64L << 12, clock);
        heap.pageGathering(PageGathering.values()[rnd.nextInt(PageGathering.values().length)]);
        heap.lock().lock();
        try {
            List<long[]> live = new ArrayList<>();
            for (int step = 0; step < 6000; step++) {
                clock.advance(Duration.ofNanos(rnd.nextLong(decay / 50)));
                int op = rnd.nextInt(10);
                if (op < 4 || live.isEmpty()) {
                    long pages = 1 + rnd.nextInt(rnd.nextInt(8) == 0 ? 200 : 40);
                    long align = rnd.nextInt(4) == 0 ? 4096L << rnd.nextInt(6) : 4096;
                    long a = rnd.nextInt(5) == 0 ? heap.allocateSlab(pages) : heap.allocateBlock(pages, align, pages << 12);
                    if (a != 0) live.add(new long[] {heap.pageOf(a & ~3L), pages});
                } else if (op < 8) {
                    long[] r = live.remove(rnd.nextInt(live.size()));
                    heap.free((int) r[0]);
                } else {
                    long[] r = live.get(rnd.nextInt(live.size()));
                    if (!heap.isUsedRun((int) r[0])) continue;
                    long to = Math.max(1, r[1] + rnd.nextInt(40) - 15);
                    if (heap.resize((int) r[0], to, to << 12)
                            || (op == 9 && heap.growAcrossRunsIfNowhereElse((int) r[0], to, to << 12))) {
                        r[1] = to;
                    } else if (op == 9 && to > r[1]) {
                        long moved = heap.relocate((int) r[0], to, to << 12);
                        if (moved != 0) {
                            if ((moved & PageHeap.MOVED) == 0) heap.free((int) r[0]);
                            r[0] = heap.pageOf(moved & ~3L);
                            r[1] = to;
                        }
                    }
                }
                if (step % 500 == 499) {
                    String bad = heap.checkInvariants();
                    assertThat(bad).as("seed " + seed + " step " + step).isNull();
                    clock.advance(Duration.ofNanos(decay + 1));
                    heap.purgeExpired();
                    assertThat(heap.dirtyBytes()).as("dirty after the decay time, seed " + seed + " step " + step)
                            .isZero();
                }
            }
        } finally {
            heap.lock().unlock();
            heap.release();
            Os.unmap(base, (long) PAGES << 12);
        }
    }
}
