package org.malloc4j.internal.page;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;
import org.malloc4j.internal.os.Os;

/**
 * The page layer on its own, against a model: random allocations (some aligned), frees, in-place resizes and
 * trims; after every step no two live runs overlap, and the layer's own invariants hold (tags, no unmerged
 * neighbours, indexes matching the pages they hold). Decay settings cover "never" (so the decay queue
 * overflows and purges early), "at once", and a release threshold that purges large runs on free.
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

    /** Runs {@code body} under the lock of a page layer whose free runs never decay, then checks its invariants. */
    private static void withLongDecay(java.util.function.Consumer<PageHeap> body) {
        long base = Os.reserve((long) PAGES << 12, 1L << 22);
        PageHeap heap = new PageHeap(base, PAGES, Long.MAX_VALUE, Long.MAX_VALUE / 4, 1L << 40);
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
