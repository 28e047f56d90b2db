package org.malloc4j.internal.page;

import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import org.malloc4j.PageGathering;
import org.malloc4j.internal.os.Os;

/**
 * The page layer: hands out runs of 4 KiB pages from the heap's reservation, for medium and large blocks and
 * for the small-object layer's slabs. Bounded time: two {@link FreeRunIndex TLSF indexes} find a run in
 * O(1) (O(log runs) where a request must not miss a run behind shorter ones in its list), boundary tags in the
 * {@link PageMap} coalesce a freed run with its neighbours in O(1).
 *
 * <p>Free runs are either <em>dirty</em> (possibly resident, still counted as committed) or <em>clean</em>
 * (given back with {@code madvise}, reads as zero). The two never merge, so committed bytes are exact:
 * {@code committed = used pages + dirty pages}. Allocation prefers dirty runs (reuse what is resident), and a
 * dirty run is purged, becoming clean, once it has been free for the decay time ({@link DecayQueue}), at
 * once when it is at least the release threshold (large blocks go straight back to the OS, unless the program is
 * seen to allocate and free them in a loop: {@link #releasesAtOnce}), or on {@link #trim()}.
 *
 * <p>One lock guards the layer; only slow paths come here.
 */
public final class PageHeap {
    /** Page size of this layer: the OS page, the granule of commit. */
    public static final int PAGE = Os.PAGE_SIZE;
    public static final int PAGE_SHIFT = 12;

    /** Bit 0 of an address returned by {@link #allocate}: the run came from clean pages, so it reads as zero. */
    public static final long FRESH = 1L;

    private final ReentrantLock lock = new ReentrantLock();
    private final long base;
    private final int totalPages;
    private final PageMap map;
    private final FreeRunIndex dirty, clean;
    private final DecayQueue decay;
    private final long limitPages, limitGiven;
    private final long releasePages;
    /**
     * Runs of at least {@link #releasePages} but at most this many pages wait for the decay time like smaller ones:
     * raised when a program asks again for a huge run it has just given back ({@link #noteHugeRequest}), back to 0
     * when no huge request of that size has come for {@link #loopWindow}, when such a run's decay time passes unused,
     * and on {@link #trim()}. See {@link #releasesAtOnce}.
     */
    private long retainPages;
    /** When a huge request last started or went on with the keeping of huge runs ({@link #now}'s clock). */
    private long retainedAt;
    /** The last huge run given back at once when freed, and when ({@link #now}'s clock). */
    private long lastReleasedPages;
    private long lastReleasedAt;
    /**
     * The longest gap between a huge release and the request that shows a loop, and between two requests of a loop:
     * the decay time, at most {@link #MAX_LOOP_GAP}, so that with a decay time of hours (or never) one later request
     * does not keep huge runs from then on.
     */
    private final long loopWindow;
    static final long MAX_LOOP_GAP = 1_000_000_000L;

    private long usedPages;
    /**
     * Bytes of the used runs (page-run blocks) past their requested sizes: the blocks' page rounding, committed
     * but no malloc's to take, so statistics count it neither as live nor as free ({@link #blockRoundingBytes}).
     */
    private long blockRounding;
    /** Set by {@link #release} (under the lock): the page map is unmapped, nothing may read it. */
    private boolean released;
    /** One past the highest page ever allocated: the range that can be resident. */
    private int highWater;
    /** The clock read once at the start of each operation (System.nanoTime costs ~20 ns; decay needs no more). */
    private long now;
    /**
     * The monotonic clock {@link #now} reads, in nanoseconds: {@code System::nanoTime}, or a test's manual clock, so
     * that decay windows do not depend on how fast the machine runs the test.
     */
    private final LongSupplier clock;
    private long peakCommittedPages;
    /**
     * Java-heap bytes of the heap's own bookkeeping ({@link #addMetadata}), and the largest committed bytes plus
     * these seen: the heap's footprint, as a native allocator's, whose bookkeeping lies in the memory it maps.
     */
    private long metadataBytes, peakFootprintBytes;
    private long purgeCount;
    /** Told the bytes of every purge (under the lock), for monitoring; null when nobody listens. */
    public java.util.function.LongConsumer onPurge;

    /**
     * @param base the page-aligned start of the range this layer manages
     * @param totalPages pages in the range
     * @param limitBytes cap on committed bytes
     * @param decayNanos how long a free dirty run waits before it is given back; 0 gives back at once
     * @param releaseBytes runs of at least this size are given back as soon as they are freed
     */
    public PageHeap(long base, int totalPages, long limitBytes, long decayNanos, long releaseBytes) {
        this(base, totalPages, limitBytes, decayNanos, releaseBytes, System::nanoTime);
    }

    /** As above, with the monotonic clock (nanoseconds) that decay times are measured by. */
    public PageHeap(long base, int totalPages, long limitBytes, long decayNanos, long releaseBytes,
            LongSupplier clock) {
        this.clock = java.util.Objects.requireNonNull(clock);
        this.base = base;
        this.totalPages = totalPages;
        this.map = new PageMap(totalPages);
        this.dirty = new FreeRunIndex(map);
        this.clean = new FreeRunIndex(map);
        this.decay = new DecayQueue(decayNanos);
        this.limitPages = limitBytes >>> PAGE_SHIFT; // a limit under a page allows no page (it was raised to one)
        this.limitGiven = limitBytes;
        this.releasePages = Math.max(1, (releaseBytes + PAGE - 1) >>> PAGE_SHIFT);
        this.loopWindow = Math.min(decayNanos, MAX_LOOP_GAP);
        map.tagRun(0, totalPages, PageMap.FREE_CLEAN);
        clean.insert(0, totalPages);
    }

    public ReentrantLock lock() {
        return lock;
    }

    public long address(int page) {
        return base + ((long) page << PAGE_SHIFT);
    }

    public int pageOf(long address) {
        return (int) ((address - base) >>> PAGE_SHIFT);
    }

    /**
     * Allocates {@code pages} pages whose first address is a multiple of {@code alignment}. Returns the address,
     * with {@link #FRESH} set when every page was clean, or 0 when neither the limit nor the reservation
     * allows it. The caller holds the lock.
     */
    public long allocate(long pages, long alignment, int kind, long requested) {
        return allocate(pages, alignment, 0, kind, requested);
    }

    /**
     * As {@link #allocate(long, long, int, long)}, but the address {@code offset} bytes into the run (a multiple of
     * the page size, below {@code alignment}) is the one aligned: for a layer that puts a header page first.
     */
    public long allocate(long pages, long alignment, long offset, int kind, long requested) {
        return allocate(pages, alignment, offset, kind, requested, 0);
    }

    /**
     * As above; {@code incoming} of the run's first pages will be the pages of a block moved there at once
     * ({@link #relocate}): they are never faulted in, so no dirty run is purged for them and nothing is gathered.
     */
    private long allocate(long pages, long alignment, long offset, int kind, long requested, long incoming) {
        assert lock.isHeldByCurrentThread();
        now = clock.getAsLong();
        decayTick();
        long slack = alignment > PAGE ? (alignment >>> PAGE_SHIFT) - 1 : 0;
        long need = pages + slack;
        if (pages > totalPages) return 0;
        if (pages >= releasePages) {
            noteHugeRequest(pages);
            if (dirtyFit(pages, need, slack, alignment, offset) < 0) purgeHugeDirtyRuns();
        }
        for (int attempt = 0; attempt < 2; attempt++) {
            boolean fromClean = false;
            int run = dirtyFit(pages, need, slack, alignment, offset);
            if (run < 0) {
                run = clean.find(need);
                fromClean = true;
            }
            if (run < 0) {
                run = lastResortFit(dirty, pages, need, slack, alignment, offset);
                fromClean = run < 0;
                if (fromClean) run = lastResortFit(clean, pages, need, slack, alignment, offset);
            }
            // Refused (no run holds it, or clean pages would pass the limit; incoming pages are committed already):
            // the dirty runs, which cannot serve it, are given back once and the search runs again. Purged, they make
            // room under the limit, and merge with the clean runs beside them, which dirty runs never do (an empty
            // 16 MiB heap refused 12 MiB with a 6 MiB dirty run before 10 MiB of clean pages; a review, 2026-12-07).
            if (run < 0 || (fromClean && committedPages() + pages - incoming > limitPages)) {
                if (dirty.pages() == 0 || attempt == 1) return 0;
                purgeAll();
                continue;
            }
            long runLength = map.length(run);
            (fromClean ? clean : dirty).remove(run, runLength);
            long since = fromClean ? now : freeSince(run); // the pieces left keep the run's age
            map.setStamp(run, 0); // its decay entry, if any, is now stale
            int start = run;
            if (slack > 0) {
                long addr = address(run);
                long aligned = ((addr + offset + alignment - 1) & -alignment) - offset;
                start = pageOf(aligned);
            }
            int state = fromClean ? PageMap.FREE_CLEAN : PageMap.FREE_DIRTY;
            long head = start - run;
            long tail = runLength - head - pages;
            // The neighbours of a free run are never free runs of the same state, so the pieces need no merge.
            if (head > 0) putFree(run, head, state, since);
            if (tail > 0) putFree((int) (start + pages), tail, state, since);
            map.tagRun(start, pages, kind);
            if (kind == PageMap.USED) {
                map.setRequested(start, requested);
                map.setWord2(start, 0);
                blockRounding += rounding(pages, requested);
            }
            long wouldBe = committedPages() + pages;
            long gathered = fromClean && incoming == 0 && gathering != PageGathering.OFF
                    && wouldBe > (gathering == PageGathering.AT_EVERY_PEAK ? peakCommittedPages
                            : Math.max(peakCommittedPages, gatherMark))
                    ? gather(start, pages) : 0;
            if (gathered > 0) gatherMark = Math.max(gatherMark, wouldBe);
            usedPages += pages;
            highWater = (int) Math.max(highWater, start + pages);
            decayTick();
            if (fromClean && kind == PageMap.USED && pages >= LARGE_PAGES) {
                long over = committedPages() - peakCommittedPages - (peakCommittedPages >>> PEAK_SLACK_SHIFT);
                if (over > 0) purgeSmallDirtyRuns(Math.min(over, pages - gathered - incoming), Integer.MAX_VALUE);
            } else if (fromClean) {
                purgeAtDemandPeak(incoming);
            }
            notePeaks();
            return address(start) | (fromClean && gathered == 0 ? FRESH : 0);
        }
        return 0;
    }

    /**
     * @return a dirty run that holds {@code pages} pages aligned as {@link #allocate} asks, or -1. A dirty run too short
     *         for any alignment of its start ({@code need} pages) may still hold the block where its start falls: the
     *         run an aligned block of this size left when freed does. Without this look each turn of a loop of aligned
     *         malloc and free took clean pages, and left one more dirty run committed for the decay time.
     */
    private int dirtyFit(long pages, long need, long slack, long alignment, long offset) {
        int run = dirty.find(need);
        if (run < 0 && slack > 0) run = alignedFit(dirty.find(pages), pages, alignment, offset);
        return run;
    }

    /**
     * @return a run of {@code index} that holds the block, looked for where the O(1) searches do not look, or -1: a
     *         run long enough behind shorter ones at the head of its list (TLSF's good fit reads one head a list), or,
     *         for an aligned block, a run shorter than {@code need} pages where the block fits as the run's start falls
     *         (the last aligned stretch of the reservation). Only on the path that would otherwise refuse the request:
     *         a review found both refused with the space free (2026-12-07). The first is the index's treap query,
     *         O(log runs): it walked the list, and with the reservation nearly used up, a request served there visited
     *         1,800 shorter runs (theLastResortFitDoesNotWalkTheShorterRunsOfItsList). The second stays a walk of the
     *         runs of at least {@code pages} pages, all shorter than {@code need} by then: whether the block fits
     *         one depends on where it starts modulo the alignment, which no index by length answers.
     */
    private int lastResortFit(FreeRunIndex index, long pages, long need, long slack, long alignment, long offset) {
        int run = need <= totalPages ? index.findAtLeast(need) : -1;
        if (run >= 0 || slack == 0) return run;
        return index.firstFitting(pages, r -> alignedFit(r, pages, alignment, offset) >= 0);
    }

    /** @return {@code run} when a block of {@code pages} pages aligned as {@link #allocate} asks fits in it, else -1 */
    private int alignedFit(int run, long pages, long alignment, long offset) {
        if (run < 0) return -1;
        long addr = address(run);
        long aligned = ((addr + offset + alignment - 1) & -alignment) - offset;
        return ((aligned - addr) >>> PAGE_SHIFT) + pages <= map.length(run) ? run : -1;
    }

    /**
     * @return whether a dirty free run of at least {@code pages} pages is there for {@link #allocate} to take (a good
     *         fit, as it looks for one: O(1)). The caller holds the lock.
     */
    public boolean hasDirtyRun(long pages) {
        return dirty.find(pages) >= 0;
    }

    /** @return whether freed pages go back to the OS at once (a decay time of 0), so that no run is ever dirty */
    public boolean purgesAtOnce() {
        return decay.immediate();
    }

    /** Runs of at least this many pages (256 KiB: the blocks above the thread caches' classes) are large. */
    static final long LARGE_PAGES = 64;

    /**
     * {@link #purgeSmallDirtyRuns} runs only for what a large block takes committed pages past their peak by more than
     * the peak's 1/64th ({@code peak >>> 6}): at a peak (python3-pymalloc's 4.5 MB block) it gives back as before,
     * but a program whose committed pages stay at their peak no longer purges on every large block. Without the bound
     * a random workload of 40,000 live blocks (5% of them up to 300 KB) purged 3,500 times a million operations and
     * faulted every purged page in again: its replay took 355-454 ns an operation against tcmalloc's 25. Its purged
     * runs, clean, could no longer merge with the dirty runs freed beside them, so more large blocks found no dirty
     * run that held them: in a smaller such workload with no decay, 59 MB committed for a peak of 12 MB live, 25 MB
     * with the bound (docs/benchmarks.md, 2026-12-07). A 1/16th or 1/32nd bound cost large-mix's peak (1.268 -> 1.347,
     * 1.283).
     */
    static final int PEAK_SLACK_SHIFT = 6;

    /**
     * Pages were just taken clean (the OS backs them as they are written) because no dirty run held them. When that
     * takes committed pages past their peak while the pages in use stand at least where they stood at every such
     * growth before (the heap grows because the program holds more, not because its free runs are scattered: see
     * below), gives back as many pages of the smallest dirty runs, those under {@link #LARGE_PAGES} pages, as the heap
     * grew past its peak, at most {@link #DEMAND_PEAK_RUNS} runs, keeping a 64th of committed pages dirty. Those runs
     * are the pieces that medium slabs and split runs leave, one to a few pages each, which the growing heap's requests
     * do not fit: committed bytes then grow by what the program needs, not by it on top of them.
     *
     * <p>Until 2026-12-08 only a large block purged so ({@link #purgeSmallDirtyRuns}, past the peak by a 64th): slabs,
     * which take a few pages at a time, never did, and mawk's replay reached its peak with a fifth of its live bytes in
     * 1- to 30-page dirty runs. Measured on the replays at the default decay (docs/benchmarks.md, 2026-12-08), peak
     * committed / peak live: fragmenting 1.368 -> 1.129, mawk 1.252 -> 1.178, gcc-cc1 1.232 -> 1.219, realloc-growth
     * 1.756 -> 1.731, the others level; replay time level. Each bound keeps a program at a steady state from purging
     * what it takes again: without the pages-in-use test, a steady random loop (SteadyStateDoesNotChurnPurgesTest)
     * purged 2,369 times in 1.2 million operations where it purges 44 (with it, 44 still), since runs purged at one
     * crossing of the peak no longer merge with the dirty runs freed beside them, which scatters the free pages into
     * more crossings (71 where there were 20); without the cap on runs, each crossing purged 29. With every dirty run
     * purged down to the 64th, whatever its size and whatever the pages in use, mawk read 1.115, fragmenting 1.127 and
     * large-mix 1.094, but that steady loop purged thousands of times and large-mix's replay took twice as long.
     *
     * @param incoming the run's first pages that a block moving in brings ({@link #relocate}), still counted in its
     *     old run too
     */
    private void purgeAtDemandPeak(long incoming) {
        // The pages of a block moving in (relocate) are counted twice until its old run is filed clean: leave them out
        // (a 20-page block grown to 30 under the peak purged a 10-page run, RelocationAtThePeakPurgesNothingTest)
        long committed = committedPages() - incoming, used = usedPages - incoming;
        if (committed <= peakCommittedPages) return;
        boolean demand = used >= usedAtGrowth;
        usedAtGrowth = Math.max(usedAtGrowth, used);
        if (!demand) return;
        long excess = dirty.pages() - (committed >>> RETAINED_AT_PEAK_SHIFT);
        if (excess > 0) purgeSmallDirtyRuns(Math.min(excess, committed - peakCommittedPages), DEMAND_PEAK_RUNS);
    }

    /** The most pages in use seen by {@link #purgeAtDemandPeak} as committed pages passed their peak. */
    private long usedAtGrowth;
    /** A heap growing past its peak keeps a 64th of its committed pages dirty: see {@link #purgeAtDemandPeak}. */
    static final int RETAINED_AT_PEAK_SHIFT = 6;
    /** At most this many runs (system calls) a growth past the peak: see {@link #purgeAtDemandPeak}. */
    static final int DEMAND_PEAK_RUNS = 8;

    /**
     * A large block ({@link #LARGE_PAGES} or more) took {@code pages} clean pages, which the OS backs as they are
     * written, because no dirty run held it: gives back up to as many pages of the smallest dirty runs, those under
     * {@link #LARGE_PAGES} pages, which no large block can use. Committed bytes then grow by the block less the
     * pieces left between live runs, not by the block on top of them. At python3-pymalloc's peak a 4.5 MB block came
     * after 0.8 MB of dirty runs of 1 to 123 pages: peak committed / peak live 1.158 -> 1.133. Runs of 64 pages or more
     * stay: purging them too (the oldest first, whatever their size) gave 1.080, but on the bundled large-mix workload,
     * whose large blocks reuse each other's freed runs, every large block then came from clean pages and its replay
     * went from 40 to 650 ns an operation. O(1) per run purged (the smallest is the dirty index's first fit), at most
     * as many pages purged as the block faults in. Slabs never purge this way: they are taken and given back in loops,
     * where purging what is needed again cost 1.5x to 2.5x (docs/benchmarks.md); a growth by slabs is
     * {@link #purgeAtDemandPeak}'s. Only past the peak: see {@link #PEAK_SLACK_SHIFT}. At most {@code runs} runs.
     */
    private void purgeSmallDirtyRuns(long pages, int runs) {
        long purged = 0;
        int run;
        beginPurgeLoop();
        while (purged < pages && runs-- > 0 && (run = dirty.find(1)) >= 0) {
            long len = map.length(run);
            if (len >= LARGE_PAGES) break;
            dirty.remove(run, len);
            purge(run, len);
            purged += len;
        }
        endPurgeLoop();
    }

    /** At most this many dirty runs are moved into one new run ({@link #gather}): a system call each. */
    static final int GATHER_RUNS = 16;
    /** Gathering stops while the process has more than this share of the kernel's mapping limit in use. */
    private static final int MAPPING_SHARE = 4;
    /** Moves between two looks at the process's mapping count. */
    private static final int MOVES_PER_CHECK = 256;
    /** Pages moved by {@link #gather}, and the moves, since the heap opened. */
    private long gatheredPages, gatherMoves;
    /** When new runs gather ({@code Heap.Builder.pageGathering}). */
    private PageGathering gathering = PageGathering.OFF;
    /**
     * The committed pages the heap would have reached without the moves of its gatherings: the most, over every
     * gathering, of committed pages plus the run's before it. With {@link PageGathering#BOUNDED} a run gathers only
     * when it would take committed pages past this mark as well as past their peak, so that the pages a gathering
     * saved must be needed again, as new growth, before the next one: a program whose blocks come and go at its
     * peak, which gathering would otherwise keep there (every later block from clean pages gathering again, the old
     * places it left clean faulted in again: the bundled large-mix workload 2.4x to 9x slower), gathers once per new
     * height instead. Measured: a lower peak on every trace that gathers at all, in a replay's first pass; replayed
     * again and again on one heap, committed pages climb back to where they are without gathering, or above
     * (docs/benchmarks.md).
     */
    private long gatherMark;
    private int movesSinceCheck;
    /** False while the process holds too many mappings for more moves of pages ({@link #movesAllowed}). */
    private boolean mappingsLeft = true;

    /**
     * The run {@code [start, start + pages)} was just taken from clean pages, and with it committed bytes would pass
     * their peak: instead of letting the OS back all of it with new pages, moves the pages of dirty runs too short
     * for the request into it ({@link Os#move}: the page tables move, no byte is copied), the longest that fit
     * first, up to {@link #GATHER_RUNS} runs; their old places become clean. A block needs to be contiguous only in
     * virtual memory: the resident pages that fragmentation left between live runs serve a request none of them
     * could hold, and committed bytes grow by what was not found. Only where a new peak would be set (below the
     * peak the heap has already been this large, and the moves, a system call each and a page fault for each page
     * when its old place is used again, would buy nothing), and with {@link PageGathering#BOUNDED} only past
     * {@link #gatherMark} too (see {@link PageGathering} for the modes and what each costs). Off by default.
     *
     * <p>Each moved piece is a mapping of its own in the kernel until its pages are purged ({@link #purge} then maps
     * fresh pages over them, which joins the mappings again; {@link #trim()} joins those of clean runs too, pieces
     * moved away again, filed clean without a purge); gathering and {@link #relocate} pause while the process
     * holds more than a {@link #MAPPING_SHARE quarter} of the kernel's limit ({@code vm.max_map_count}), counted
     * every {@link #MOVES_PER_CHECK} moves.
     *
     * @return the pages moved in
     */
    private long gather(int start, long pages) {
        if (dirty.pages() == 0 || !movesAllowed()) return 0;
        long moved = 0;
        for (int k = 0; k < GATHER_RUNS && moved < pages; k++) {
            int run = dirty.findAtMost(pages - moved);
            if (run < 0) break;
            long len = map.length(run);
            dirty.remove(run, len);
            int refused = Os.move(address(run), address((int) (start + moved)), len << PAGE_SHIFT);
            if (refused != 0) unjoined++; // a refused move maps its destination afresh: a mapping of its own, maybe
            if (refused == Os.MOVE_SPLIT_SOURCE) {
                // The run holds pages moved there before, a mapping each: purging it joins them again (a fresh
                // mapping), so that it can be moved next time, and it no longer counts as committed.
                purge(run, len);
                continue;
            }
            if (refused != 0) {
                putFree(run, len, PageMap.FREE_DIRTY, freeSince(run));
                mappingsLeft = false; // out of mappings, say: look at the mapping count before trying again
                break;
            }
            fileClean(run, len);
            moved += len;
            gatherMoves++;
            unjoined++;
            purgeCount++; // a system call that gives the run's old place back: counted with the purges
            movesSinceCheck++;
        }
        gatheredPages += moved;
        return moved;
    }

    /**
     * @return whether {@link #gather} and {@link #relocate} may move pages now: the process's mapping count is looked
     *         at now and then
     */
    private boolean movesAllowed() {
        if (!Os.canMove()) return false;
        if (mappingsLeft && movesSinceCheck < MOVES_PER_CHECK) return true;
        if (!mappingsLeft && movesSinceCheck++ < MOVES_PER_CHECK) return false; // counts refused chances while paused
        movesSinceCheck = 0;
        int count = Os.mappingCount();
        mappingsLeft = count >= 0 && count < Os.mappingLimit() / MAPPING_SHARE;
        return mappingsLeft;
    }

    /**
     * Maps fresh pages over every clean run below {@link #highWater}, which joins the mappings of the pieces moved
     * into them before and moved away again since (a gathered block relocated, a gathered dirty run gathered again),
     * and those left apart where runs purged one by one could not merge with their neighbours' mappings. Old places
     * of moves are filed clean without a purge, so only this joins them; without it a heap whose every page was free
     * and trimmed held a mapping a piece until it closed (a review, 2026-12-07). O(runs), a system call a clean run;
     * for {@link #trim()}, and only when pages have moved, or been purged by a remap, since the last join
     * ({@link #unjoined}). Each call counts in {@link #purgeCount()}.
     */
    private void joinCleanMappings() {
        for (int p = 0; p < highWater; ) {
            long len = map.length(p);
            if (len <= 0) break;
            if (map.state(p) == PageMap.FREE_CLEAN) {
                Os.remapFresh(address(p), Math.min(len, highWater - p) << PAGE_SHIFT); // refused: they stay apart
                purgeCount++; // a system call over pages given back, as a purge's: counted with them
            }
            p += (int) len;
        }
        unjoined = 0;
    }

    /**
     * Moves of pages ({@link #gather}, {@link #relocate}), refused or not, and purges by a remap since
     * {@link #joinCleanMappings} last ran: what may have split the mappings of the clean runs since.
     */
    private long unjoined;

    /** Sets when new runs gather. The caller holds the lock. */
    public void pageGathering(PageGathering mode) {
        gathering = java.util.Objects.requireNonNull(mode, "mode");
    }

    /** @return {pages moved by gathering, moves} since the heap opened (for tests and the docs) */
    public long[] gatherCounts() {
        return new long[] {gatheredPages, gatherMoves};
    }

    /** Bit 1 of an address returned by {@link #relocate}: the block's pages were moved there, not copied. */
    public static final long MOVED = 2L;
    /** With a decay time of 0, blocks of fewer pages are copied (below 64 KiB the system call costs about the copy). */
    static final long RELOCATE_PAGES = 16;
    /** Blocks moved by {@link #relocate}, and their pages, since the heap opened. */
    private long relocations, relocatedPages;

    /**
     * Moves the used run at {@code page}, which must grow to {@code pages} pages and cannot grow in place, to a new
     * run by moving its pages there ({@link Os#move}: the page tables move, no byte is copied), when its old place
     * would go back to the OS at once anyway: a run of {@code releaseBytes} or more, or any run of
     * {@link #RELOCATE_PAGES} pages or more when the decay time is 0. A copy would then write every byte into the
     * new run (faulting in the pages it writes, when they are clean) and purge the old run; the move gives the same
     * resident memory after, without the copy or those faults, and the peak of committed pages never counts both
     * runs. Growing a block of hundreds of megabytes then costs a system call, not the bytes (glibc's
     * {@code mremap} of its mmapped chunks, for a block within the heap's one reservation).
     *
     * <p>Not for a run below the threshold: its old place, copied from, stays resident for the next block (the
     * decay's whole point), where a move leaves it clean and the next block there faults every page in again. On
     * the bundled large-mix workload, moving its 1-12 MiB blocks whenever no dirty run held the new size cut peak
     * committed bytes by 9% and made its replay 3x slower (a page fault costs microseconds on a virtual machine,
     * more than copying the page). The caller validated the run and holds the lock.
     *
     * @return 0 when the run should be copied (nothing was done, or the heap cannot hold the new size: the caller's
     *         ordinary path reports that); else the new block's address, with {@link #MOVED} set when the pages were
     *         moved (the old run is free), without it when the system call refused (the caller copies the bytes
     *         and frees the old run, as for any move)
     */
    public long relocate(int page, long pages, long requested) {
        assert lock.isHeldByCurrentThread();
        long length = map.length(page);
        if (pages <= length || length < RELOCATE_PAGES || (length < releasePages && !decay.immediate())) return 0;
        if (!movesAllowed()) return 0;
        long peakBefore = peakCommittedPages, footprintBefore = peakFootprintBytes;
        long result = allocate(pages, PAGE, 0, PageMap.USED, requested, length);
        if (result == 0) return 0;
        long to = result & ~FRESH;
        int refused = Os.move(address(page), to, length << PAGE_SHIFT);
        if (refused != 0) {
            unjoined++; // its destination mapped afresh: a mapping of its own, maybe
            // A source made of pieces moved there before (a mapping each), or no mapping left: copy this time.
            if (refused != Os.MOVE_SPLIT_SOURCE) mappingsLeft = false;
            if (committedPages() > limitPages) {
                // The run was taken within the limit for pages that move; a copy holds both runs: it does not fit.
                // It goes back at once, whatever free() would do with a run of its size: kept dirty (huge runs are,
                // once retained) it would hold committed pages over the limit, and it was never the program's block,
                // so its release must not count as one of the program's for releasesAtOnce.
                usedPages -= pages;
                blockRounding -= rounding(pages, requested);
                releaseDirty(pageOf(to), pages, true);
                decayTick();
                peakCommittedPages = peakBefore;
                peakFootprintBytes = footprintBefore;
                return 0;
            }
            return to;
        }
        usedPages -= length;
        blockRounding -= rounding(length, map.requested(page));
        fileClean(page, length);
        relocations++;
        unjoined++;
        relocatedPages += length;
        purgeCount++; // a system call that gives the old place back: counted with the purges
        movesSinceCheck++;
        peakCommittedPages = Math.max(peakBefore, committedPages());
        peakFootprintBytes = Math.max(footprintBefore, committedBytes() + metadataBytes);
        return to | MOVED;
    }

    /** @return {blocks moved by {@link #relocate}, their pages} since the heap opened (for tests and the docs) */
    public long[] relocationCounts() {
        return new long[] {relocations, relocatedPages};
    }

    /** Allocates a slab run for the small-object layer; see {@link #allocate}. */
    public long allocateSlab(long pages) {
        return allocate(pages, PAGE, PageMap.SLAB, 0);
    }

    /** Allocates a run for a medium or large block; see {@link #allocate}. */
    public long allocateBlock(long pages, long alignment, long requested) {
        return allocate(pages, alignment, 0, PageMap.USED, requested);
    }

    /** As {@link #allocateBlock}, with the address {@code offset} bytes into the run aligned. */
    public long allocateBlock(long pages, long alignment, long offset, long requested) {
        return allocate(pages, alignment, offset, PageMap.USED, requested);
    }

    /** Frees the used run or slab starting at {@code page}. The caller validated it and holds the lock. */
    public void free(int page) {
        assert lock.isHeldByCurrentThread();
        now = clock.getAsLong();
        long length = map.length(page);
        usedPages -= length;
        if (map.state(page) == PageMap.USED) blockRounding -= rounding(length, map.requested(page));
        releaseDirty(page, length, releasesAtOnce(length));
        decayTick();
    }

    /**
     * Whether a freed run of {@code length} pages goes back to the OS at once: when the decay time is 0, and when it
     * is a huge run (the release threshold or more) unless the program has shown that it reuses such runs. glibc
     * gives back every chunk above its mmap threshold (32 MiB at most) and faults it in again at the next malloc; a
     * program that allocates, touches and frees one 64 MiB buffer in a loop then pays a purge and its page faults a
     * turn (the public {@code sort} trace: 147 ns an operation, against tcmalloc's 4.8, which keeps the pages).
     * Here the first huge run freed goes back at once, as glibc's would; when a huge request then comes within the
     * decay time (at most a second: {@link #loopWindow}) and that run could have served it, runs up to its size wait
     * for the decay time from then on, as smaller ones do, so the next free keeps the pages for the next malloc. The
     * pages kept are bounded by what the program had live a moment before. The keeping ends when no huge request of
     * its sizes has come for the window, when a kept run waits its whole decay time unused ({@link #purgeIfCurrent}),
     * and on {@link #trim()}; a huge request that no kept run can hold gives them back first
     * ({@link #purgeHugeDirtyRuns}), and a request beyond the limit purges every dirty run ({@link #allocate}). A kept
     * run goes back after the decay time, as any dirty run does (and, like theirs, pieces of it that later blocks
     * leave free count their decay time from then). glibc's dynamic threshold learns from one free; this waits for a
     * request too, so that a program that frees a huge block once sees its memory go back.
     */
    private boolean releasesAtOnce(long length) {
        if (decay.immediate()) return true;
        if (length < releasePages) return false;
        if (length <= keptUpTo()) return false;
        lastReleasedPages = length;
        lastReleasedAt = now;
        return true;
    }

    /** @return {@link #retainPages}, after ending the keeping when no huge request has gone on with it for the window */
    private long keptUpTo() {
        if (retainPages > 0 && now - retainedAt > loopWindow) retainPages = 0; // the loop has stopped
        return retainPages;
    }

    /** A huge run of {@code pages} is asked for: retain runs of its size if one that could serve it just went back. */
    private void noteHugeRequest(long pages) {
        if (pages <= keptUpTo()) {
            retainedAt = now; // the loop goes on
        } else if (pages <= lastReleasedPages && now - lastReleasedAt <= loopWindow) {
            retainPages = pages;
            retainedAt = now;
        }
    }

    /**
     * A huge request that no dirty run holds will take clean pages: the huge dirty runs that were kept for a loop
     * ({@link #releasesAtOnce}) could not serve it, and go back to the OS first, so that committed bytes never hold
     * both them and the new run (a program whose vectors double into 32 and then 64 MiB buffers kept its freed 32 MiB
     * runs beside its new 64 MiB ones: 49 MiB more at its peak). Purged before the search, so that the clean run
     * found is not merged with them under it. O(log runs) a run purged, and for the search that finds none left (the
     * dirty index's treap: with the threshold inside a TLSF list, the list walked every shorter run in it, 400 runs of
     * 129 pages under a threshold of 130 on every huge request, aHugeRequestDoesNotWalkTheDirtyRunsUnderTheThreshold).
     */
    private void purgeHugeDirtyRuns() {
        int run;
        // Not find(): a good fit looks at the head of the threshold's own list only, and when the threshold is not
        // where that list starts, a shorter run there hides the huge ones behind it (findAtLeast asks the treap)
        beginPurgeLoop();
        while ((run = dirty.findAtLeast(releasePages)) >= 0) {
            long len = map.length(run);
            dirty.remove(run, len);
            purge(run, len);
        }
        endPurgeLoop();
    }

    /** @return the size in pages up to which huge runs freed now wait for the decay time (0: none; for tests) */
    public long retainedHugePages() {
        return retainPages;
    }

    /** Puts a run back as dirty, merging it with dirty neighbours; purges it at once when asked. */
    private void releaseDirty(int page, long length, boolean purgeNow) {
        mergedSince = now;
        mergedSinceLength = length;
        long merged = merge(page, length, PageMap.FREE_DIRTY);
        int first = (int) (merged >>> 32);
        long len = merged & 0xFFFF_FFFFL;
        if (purgeNow) {
            purge(first, len);
        } else {
            // The merged run takes its oldest part's age: with the time of its newest, a run that a loop splits and
            // merges again (a block taken from it and freed, over and over) would never reach its decay time
            putFree(first, len, PageMap.FREE_DIRTY, mergedSince);
        }
    }

    /** The time of the largest part (freed run or dirty neighbour) that {@link #merge} joined last, and its pages. */
    private long mergedSince, mergedSinceLength;

    /** @return when the dirty run at {@code page} became free, or now when it has no decay entry */
    private long freeSince(int page) {
        return map.stamp(page) != 0 ? map.word2(page) : now;
    }

    /**
     * Coalesces the free run [page, page + length), which is in no index, with its neighbours of the same
     * {@code state} (boundary tags: O(1)): they leave their index and the pages that become interior are cleared.
     * Returns the merged run as {@code first << 32 | length}, untagged and in no index.
     */
    private long merge(int page, long length, int state) {
        FreeRunIndex index = state == PageMap.FREE_CLEAN ? clean : dirty;
        int first = page;
        long len = length;
        boolean dirtyRuns = state == PageMap.FREE_DIRTY;
        if (first > 0 && map.state(first - 1) == state) {
            int left = map.firstOf(first - 1);
            long leftLen = map.length(left);
            if (dirtyRuns && leftLen > mergedSinceLength) {
                mergedSince = freeSince(left);
                mergedSinceLength = leftLen;
            }
            index.remove(left, leftLen);
            map.clear(first - 1);
            map.clear(first);
            first = left;
            len += leftLen;
        }
        int right = (int) (first + len);
        if (right < totalPages && map.state(right) == state) {
            long rightLen = map.length(right);
            if (dirtyRuns && rightLen > mergedSinceLength) {
                mergedSince = freeSince(right);
                mergedSinceLength = rightLen;
            }
            index.remove(right, rightLen);
            map.clear(right - 1);
            map.clear(right);
            len += rightLen;
        }
        return (long) first << 32 | len;
    }

    /** Gives a dirty run (not in any index) back to the OS and files it as clean, merged with clean neighbours. */
    private void purge(int page, long length) {
        // Once pages have been moved, a purge maps fresh pages instead: it joins the moved pieces' mappings again.
        boolean remap = gatherMoves > 0 || relocations > 0;
        int refused = remap ? Os.remapFresh(address(page), length << PAGE_SHIFT)
                : Os.decommit(address(page), length << PAGE_SHIFT);
        purgeCount++;
        if (remap) unjoined++;
        if (refused != 0) {
            // The OS kept the pages (the program locked them, say): the run stays dirty, committed, and unqueued; a
            // later purgeAll or trim tries again. Never half done: the run is back in the books before anything else.
            map.tagRun(page, length, PageMap.FREE_DIRTY); // no decay stamp: unqueued
            if (!purgeLoop) {
                dirty.insert(page, length);
            } else { // a loop over the dirty index: kept out of it until the loop ends, or the loop finds it again
                if (setAsideCount == setAside.length) setAside = Arrays.copyOf(setAside, 2 * setAsideCount + 4);
                setAside[setAsideCount++] = (long) page << 32 | length;
            }
            return;
        }
        if (onPurge != null) onPurge.accept(length << PAGE_SHIFT);
        fileClean(page, length);
    }

    /** Whether a loop over the dirty index is purging its runs: {@link #purge} then sets refused runs aside. */
    private boolean purgeLoop;
    /** The runs the OS refused to purge during that loop, as {@code page << 32 | length} (grown on a refusal only). */
    private long[] setAside = new long[0];
    private int setAsideCount;

    private void beginPurgeLoop() {
        purgeLoop = true;
        setAsideCount = 0;
    }

    /** Files the runs set aside during the loop as dirty again (unqueued: trim or a later purgeAll tries again). */
    private void endPurgeLoop() {
        purgeLoop = false;
        for (int i = 0; i < setAsideCount; i++) dirty.insert((int) (setAside[i] >>> 32), setAside[i] & 0xFFFF_FFFFL);
        setAsideCount = 0;
    }

    /**
     * Files a run that is in no index, and whose pages are no longer resident (purged or moved away), as clean,
     * merged with clean neighbours; a decay entry it had is stale from then on.
     */
    private void fileClean(int page, long length) {
        long merged = merge(page, length, PageMap.FREE_CLEAN);
        putFree((int) (merged >>> 32), merged & 0xFFFF_FFFFL, PageMap.FREE_CLEAN);
    }

    private void putFree(int page, long length, int state) {
        putFree(page, length, state, now);
    }

    /** @param since for a dirty run, when its pages became free (see {@link DecayQueue#add}) */
    private void putFree(int page, long length, int state, long since) {
        map.tagRun(page, length, state);
        (state == PageMap.FREE_CLEAN ? clean : dirty).insert(page, length);
        if (state == PageMap.FREE_DIRTY) {
            map.setWord2(page, since);
            map.setStamp(page, enqueue(page, since));
        }
    }

    /**
     * Queues a dirty run for decay. When the queue is full its oldest entry is set aside and purged at the end of
     * the current operation ({@link #decayTick}), never in the middle of one, when runs are half split.
     */
    private int enqueue(int page, long since) {
        if (decay.isFull(isQueued)) {
            int oldest = decay.pollOldest();
            deferredPages[deferred] = oldest;
            deferredStamps[deferred++] = decay.lastStamp();
        }
        return decay.add(page, since);
    }

    // At most three runs are queued by one operation (two split pieces, or one merged run), so eight slots suffice.
    private final int[] deferredPages = new int[8];
    private final int[] deferredStamps = new int[8];
    private int deferred;

    /** Purges the dirty runs whose decay time has passed. Amortised O(1): each queued entry is seen once. */
    private void decayTick() {
        while (deferred > 0) {
            deferred--;
            purgeIfCurrent(deferredPages[deferred], deferredStamps[deferred]);
        }
        if (decay.isEmpty()) return;
        int page;
        while ((page = decay.pollExpired(now)) >= 0) {
            purgeIfCurrent(page, decay.lastStamp());
        }
    }

    private void purgeIfCurrent(int page, int stamp) {
        if (!isCurrent(page, stamp)) return;
        long len = map.length(page);
        dirty.remove(page, len);
        purge(page, len);
        if (len >= releasePages) retainPages = 0; // a huge run waited its decay time unused: no longer a loop
    }

    /** @return true when the decay entry (page, stamp) still stands for a free dirty run starting at page */
    private boolean isCurrent(int page, int stamp) {
        // The entry is stale if the run was allocated, merged or purged since it was queued. One record: a run's last
        // page carries its tag too, but never a stamp (PageMap.tagRun clears it), so a match is a run's first page
        return map.state(page) == PageMap.FREE_DIRTY && map.stamp(page) == stamp;
    }

    private final DecayQueue.Liveness isQueued = this::isCurrent;

    /** @return the runs the free-run indexes' searches beyond their lists' heads have visited (for tests) */
    long runsWalked() {
        return dirty.walked() + clean.walked();
    }

    /** @return the decay queue's capacity (for tests) */
    int decayCapacity() {
        return decay.capacity();
    }

    /** Gives every dirty free run back to the OS at once. The caller holds the lock. */
    public void purgeAll() {
        assert lock.isHeldByCurrentThread();
        int run;
        beginPurgeLoop();
        while ((run = dirty.find(1)) >= 0) {
            long len = map.length(run);
            dirty.remove(run, len);
            purge(run, len);
        }
        endPurgeLoop();
        decay.clear();
    }

    /**
     * Resizes the used run at {@code page} in place to {@code pages} pages, when shrinking or when the run after it
     * is free and large enough. Returns false, changing nothing, when it cannot. The caller holds the lock.
     */
    public boolean resize(int page, long pages, long requested) {
        now = clock.getAsLong();
        long length = map.length(page);
        if (pages == length) {
            blockRounding += map.requested(page) - requested;
            map.setRequested(page, requested);
            return true;
        }
        if (pages < length) {
            blockRounding += rounding(pages, requested) - rounding(length, map.requested(page));
            map.tagRun(page, pages, PageMap.USED);
            map.setRequested(page, requested);
            usedPages -= length - pages;
            long tail = length - pages;
            releaseDirty((int) (page + pages), tail, releasesAtOnce(tail)); // as free() does
            decayTick();
            return true;
        }
        int right = (int) (page + length);
        if (right >= totalPages) return false;
        int state = map.state(right);
        if (state != PageMap.FREE_DIRTY && state != PageMap.FREE_CLEAN) return false;
        long rightLen = map.length(right);
        long extra = pages - length;
        if (rightLen < extra) return false; // several free runs after it: see growAcrossRunsIfNowhereElse
        if (state == PageMap.FREE_CLEAN && committedPages() + extra > limitPages) {
            // Free dirty runs make room under the limit, as they do for allocate: else the caller's fallback, a copy
            // that holds the old block and the new one together, would be refused where growing in place fits.
            if (dirty.pages() == 0 || usedPages + extra > limitPages) return false;
            purgeAll();
            if (committedPages() + extra > limitPages) return false; // the OS refused some purge: still over
            rightLen = map.length(right); // still a clean run starting there, perhaps joined by a run purged after it
        }
        (state == PageMap.FREE_CLEAN ? clean : dirty).remove(right, rightLen);
        long since = state == PageMap.FREE_DIRTY ? freeSince(right) : now; // what is left keeps the run's age
        map.clear(right);
        map.clear((int) (page + length - 1));
        if (rightLen > extra) putFree((int) (page + pages), rightLen - extra, state, since);
        grown(page, pages, extra, requested);
        return true;
    }

    /** Tags the used run at {@code page}, grown in place by {@code extra} pages to {@code pages}, and counts it. */
    private void grown(int page, long pages, long extra, long requested) {
        blockRounding += rounding(pages, requested) - rounding(pages - extra, map.requested(page));
        map.tagRun(page, pages, PageMap.USED);
        map.setRequested(page, requested);
        usedPages += extra;
        highWater = (int) Math.max(highWater, page + pages);
        // A huge block grown in place is a huge request of its new size: without this a buffer taken at 12 MiB and
        // grown to 16 MiB in a loop kept runs up to 12 MiB only, and its 16 MiB went back to the OS every turn
        if (pages >= releasePages) noteHugeRequest(pages);
        notePeaks();
        decayTick();
    }

    /**
     * For a realloc that {@link #resize} could not grow in place and whose copy would be refused, no free run
     * elsewhere holding the new size within the limit: grows the used run at {@code page} to {@code pages} pages over
     * the free runs after it, dirty and clean in turn (the two never merge, so the run after it alone was too short).
     * Each is taken as it is, a dirty one's pages resident, a clean one's faulted in when written, and the rest of the
     * last one stays free, with its state and age. Before, such a growth was refused at the end of the reservation with
     * its pages free beside it (a review, 2026-12-07). Only then: where the block can move, it moves, as before, the
     * copy's new run most often dirty and resident; growing across the runs whenever they held the growth made
     * python3-pymalloc's replay 1.75x slower (2.2x when the dirty runs were purged to join the clean ones), its
     * blocks then faulting in clean pages they had not touched before. O(1) when the block can move (a good fit holds
     * it); else O(log runs) for the searches of {@link #allocate}'s last resort and O(runs taken), each at least a
     * page of the growth. The caller holds the lock.
     *
     * @return whether the run grew; false, changing nothing, when it can move, or the free runs after it are too
     *         short, or their clean pages would pass the limit with every dirty run given back (when they pass it only
     *         with the dirty runs, those go back first, as for {@link #resize})
     */
    public boolean growAcrossRunsIfNowhereElse(int page, long pages, long requested) {
        now = clock.getAsLong();
        long length = map.length(page);
        if (pages <= length || dirty.find(pages) >= 0) return false;
        boolean underLimit = committedPages() + pages <= limitPages;
        // The O(1) searches first: called on every growth that could not happen in place, and mostly a clean run holds
        // the block. The treap queries for a run behind shorter ones in the new size's own lists (O(log runs)) only
        // where those fail, as allocate's last resort
        if (underLimit && clean.find(pages) >= 0) return false;
        if (dirty.findAtLeast(pages) >= 0) return false;
        if (underLimit && clean.findAtLeast(pages) >= 0) return false;
        return growAcrossRuns(page, length, pages, requested);
    }

    private boolean growAcrossRuns(int page, long length, long pages, long requested) {
        long extra = pages - length;
        int right = (int) (page + length);
        long cleanTaken = cleanPagesTaken(right, extra);
        if (cleanTaken < 0) return false;
        if (committedPages() + cleanTaken > limitPages) {
            // Free dirty runs elsewhere make room under the limit, as they do for resize and allocate: else the realloc
            // was refused, its copy too, and the same realloc then fitted, the refused copy having purged them
            if (dirty.pages() == 0 || usedPages + extra > limitPages) return false;
            purgeAll();
            cleanTaken = cleanPagesTaken(right, extra); // the runs after the block, merged once purged
            if (committedPages() + cleanTaken > limitPages) return false; // the OS refused some purge: still over
        }
        map.clear((int) (page + length - 1));
        long need = extra;
        for (int p = right; need > 0; ) {
            long len = map.length(p);
            int state = map.state(p);
            long since = state == PageMap.FREE_DIRTY ? freeSince(p) : now; // what is left keeps the run's age
            (state == PageMap.FREE_CLEAN ? clean : dirty).remove(p, len);
            map.clear(p); // its decay entry, if any, is now stale
            map.clear((int) (p + len - 1));
            if (len > need) putFree((int) (p + need), len - need, state, since);
            p += (int) Math.min(len, need);
            need -= Math.min(len, need);
        }
        grown(page, pages, extra, requested);
        return true;
    }

    /**
     * @return whether the used run at {@code page} could grow to {@code pages} pages over the free runs after it but
     *         for the limit: their clean pages would take committed pages past it. The caller holds the lock.
     */
    public boolean growsInPlaceButForTheLimit(int page, long pages) {
        long length = map.length(page);
        if (pages <= length) return false;
        long cleanTaken = cleanPagesTaken((int) (page + length), pages - length);
        return cleanTaken > 0 && committedPages() + cleanTaken > limitPages;
    }

    /**
     * @return the clean pages that a growth by {@code extra} pages over the free runs from page {@code right} on would
     *         take (their dirty pages are committed already), or -1 when those runs are too short
     */
    private long cleanPagesTaken(int right, long extra) {
        long free = 0, cleanTaken = 0;
        for (int p = right; free < extra && p < totalPages && isFreeRun(p); ) {
            long len = map.length(p);
            if (map.state(p) == PageMap.FREE_CLEAN) cleanTaken += Math.min(len, extra - free);
            free += len;
            p += (int) len;
        }
        return free < extra ? -1 : cleanTaken;
    }

    /** @return true when {@code address} starts a used run (a medium or large block) */
    public boolean isBlockStart(long address) {
        if ((address & (PAGE - 1)) != 0) return false;
        int page = pageOf(address);
        // The last page of a multi-page run carries the run's tag too: only a run's first page names itself.
        return map.state(page) == PageMap.USED && map.isRunStart(page);
    }

    /**
     * Error path only: finds the first page of the run that holds {@code address} by walking back over the page
     * records of at most {@code maxPages} pages (interior pages have no tag). Returns -1 when not found within
     * that distance.
     */
    public int runContaining(long address, int maxPages) {
        int p = pageOf(address);
        for (int q = p; q >= 0 && p - q <= maxPages; q--) {
            if (map.state(q) == PageMap.INTERIOR) continue;
            // q starts a run when its own record names it (as isBlockStart asks), not when the record of the page
            // its length leads to names q: a page that was once a run's last page keeps the index of that run's
            // first page after a merge makes it interior (clear() leaves word 3), and for q the last page of a used
            // run that once started there, that stale index made this name q as the start of the block holding p
            if (map.isRunStart(q)) return q + map.length(q) - 1 >= p ? q : -1;
            return q == p ? map.firstOf(q) : -1; // q ends a run: only p itself can be that last page
        }
        return -1;
    }

    /** @return true when {@code page} starts a used run (a block) */
    public boolean isUsedRun(int page) {
        return map.state(page) == PageMap.USED;
    }

    /** @return true when {@code page} starts a free run */
    public boolean isFreeRun(int page) {
        int st = map.state(page);
        return st == PageMap.FREE_DIRTY || st == PageMap.FREE_CLEAN;
    }

    /**
     * Marks the block that starts at {@code address} as held by a layer of the heap (an arena or a thread stack):
     * {@code kind}, not 0, says which, 0 ends the hold. Kept in the run's flags word, cleared when a run is allocated.
     * The caller holds the lock.
     */
    public void hold(long address, int kind) {
        map.setWord2(pageOf(address), kind);
    }

    /** @return what holds the block that starts at {@code address} ({@link #hold}'s kind), or 0; caller holds the lock */
    public int heldKind(long address) {
        return (int) map.word2(pageOf(address));
    }

    public long blockPages(long address) {
        return map.length(pageOf(address));
    }

    public long blockRequested(long address) {
        return map.requested(pageOf(address));
    }

    public void trim() {
        lock.lock();
        try {
            checkNotReleased();
            retainPages = 0; // the program asked for its free memory back: huge runs freed from now on go back at once
            lastReleasedPages = 0; // and a loop must show itself again
            purgeAll();
            // Only when pages moved, or were purged by a remap, since the last join: joined once, the clean runs stay
            // joined, and a join on every trim remapped each of them again, a system call a run, for nothing
            if (unjoined > 0) joinCleanMappings();
        } finally {
            lock.unlock();
        }
    }

    public long committedPages() {
        return usedPages + dirty.pages();
    }

    public long committedBytes() {
        return committedPages() << PAGE_SHIFT;
    }

    /**
     * @return whether {@code npages} more committed pages would take the committed bytes past their peak (racy without
     *         the lock: a hint for giving spares back first)
     */
    public boolean wouldPassPeak(long npages) {
        return committedPages() + npages > peakCommittedPages;
    }

    public long peakCommittedBytes() {
        return peakCommittedPages << PAGE_SHIFT;
    }

    /** Raises the peaks of committed pages and of the footprint to where they are now. The caller holds the lock. */
    private void notePeaks() {
        peakCommittedPages = Math.max(peakCommittedPages, committedPages());
        peakFootprintBytes = Math.max(peakFootprintBytes, committedBytes() + metadataBytes);
    }

    /**
     * Counts {@code delta} bytes more (or fewer) of bookkeeping on the Java heap: a slab's object and arrays as it
     * takes pages or gives them back. The caller holds the lock.
     */
    public void addMetadata(long delta) {
        metadataBytes += delta;
        notePeaks();
    }

    /** @return the bytes {@link #addMetadata} counts now */
    public long metadataBytes() {
        return metadataBytes;
    }

    /** @return the largest committed bytes plus {@link #metadataBytes} seen */
    public long peakFootprintBytes() {
        return peakFootprintBytes;
    }

    /** @return the bytes of a used run of {@code pages} pages past its {@code requested} bytes */
    private static long rounding(long pages, long requested) {
        return (pages << PAGE_SHIFT) - requested;
    }

    /**
     * @return the bytes of the used runs (page-run blocks) past their requested sizes: committed, but the
     *         blocks' own until they are freed (internal waste), never a free extent
     */
    public long blockRoundingBytes() {
        return blockRounding;
    }

    public long dirtyBytes() {
        return dirty.pages() << PAGE_SHIFT;
    }

    public long largestDirtyBytes() {
        return dirty.largest() << PAGE_SHIFT;
    }

    public long largestFreeBytes() {
        return Math.max(dirty.largest(), clean.largest()) << PAGE_SHIFT;
    }

    /**
     * @return bytes of this layer's range resident in RAM, by {@code mincore} over the runs committed when it was
     *         called. Only the list of those runs is read under the lock (O(runs)); the kernel's walk of their page
     *         tables, milliseconds for gigabytes, runs outside it, so that a monitor polling {@code stats()} does not
     *         stall the threads that need pages. An estimate under concurrent use, as the kernel's answer is anyway.
     *         The range stays mapped until the heap is closed (pages are given back with madvise, never unmapped).
     *         The clean runs that a stretch reads through are not counted: a read of a page given back maps the
     *         kernel's shared zero page there, which mincore reports resident (a CHECKED double free reads the freed
     *         block's header: 12,288 resident bytes for 8,192 committed, HeapStateMachineProperties).
     */
    public long residentBytes() {
        Layout layout = committedLayout();
        long[] spans = layout.spans(), holes = layout.holes();
        long resident = 0;
        int h = 0;
        for (int i = 0; i < spans.length; i += 2) {
            long first = spans[i], pages = spans[i + 1];
            int from = h;
            while (h < holes.length && holes[h] < first + pages) h += 2;
            resident += Os.residentPages(address((int) first), pages, first, holes, from, h);
        }
        return resident << PAGE_SHIFT;
    }

    /**
     * A clean run shorter than this many pages does not end a stretch of {@link #committedSpans()}: {@code mincore}
     * reads its pages with the stretch's, in about 5 ns a page, where a call of its own costs about 10 us, and they
     * are taken out of the count after ({@link #residentBytes}). Without it a fragmented heap whose live runs
     * alternate with runs given back (decay 0, or after the decay time) made a call per live run: half a second a
     * {@code stats()} at 50,000 runs.
     */
    static final int READ_THROUGH_PAGES = 1024;

    /**
     * The stretches of committed runs as {first page, pages} pairs, and the clean runs inside them that
     * {@link #READ_THROUGH_PAGES} reads through, as {first page, pages} pairs in address order.
     */
    record Layout(long[] spans, long[] holes) {}

    /**
     * @return the stretches of committed runs (used, slabs, dirty) as {first page, pages} pairs, skipping the clean
     *         runs of at least {@link #READ_THROUGH_PAGES} between, so that a heap with a few huge aligned blocks far
     *         apart costs a few mincore calls, not a scan of the whole range it ever touched, and a heap of many runs
     *         with short holes between costs a call per stretch, not one per run. Package-private for tests.
     */
    long[] committedSpans() {
        return committedLayout().spans();
    }

    /** @return {@link #committedSpans()} with the clean runs inside them, read under the lock in one pass */
    Layout committedLayout() {
        lock.lock();
        try {
            checkNotReleased();
            long[] spans = new long[16], holes = new long[16];
            int n = 0, holeCount = 0, holesBeforeEnd = 0;
            int spanStart = -1;
            long committedEnd = 0; // the end of the last committed run seen
            for (int p = 0; p < highWater; ) {
                long len = map.length(p);
                if (len <= 0) break;
                boolean committed = map.state(p) != PageMap.FREE_CLEAN;
                if (committed) {
                    if (spanStart < 0) spanStart = p;
                    committedEnd = Math.min(p + len, highWater);
                    holesBeforeEnd = holeCount; // the clean runs seen so far lie inside the stretch
                } else if (spanStart >= 0 && len >= READ_THROUGH_PAGES) {
                    spans = addSpan(spans, n, spanStart, committedEnd - spanStart);
                    n += 2;
                    holeCount = holesBeforeEnd;
                    spanStart = -1;
                } else if (spanStart >= 0) {
                    holes = addSpan(holes, holeCount, p, len);
                    holeCount += 2;
                }
                p += (int) len;
            }
            if (spanStart >= 0) {
                spans = addSpan(spans, n, spanStart, committedEnd - spanStart);
                n += 2;
            }
            return new Layout(java.util.Arrays.copyOf(spans, n), java.util.Arrays.copyOf(holes, holesBeforeEnd));
        } finally {
            lock.unlock();
        }
    }

    /** @return {@code spans} (grown when full) with the pair {first, pages} stored at index {@code n} */
    private static long[] addSpan(long[] spans, int n, int first, long pages) {
        if (n == spans.length) spans = java.util.Arrays.copyOf(spans, 2 * n);
        spans[n] = first;
        spans[n + 1] = pages;
        return spans;
    }

    /**
     * Purges the dirty runs whose decay time has passed, without waiting for the next allocation or free.
     *
     * @return nanoseconds until the next queued run expires, or -1 when none is queued
     */
    public long purgeExpired() {
        lock.lock();
        try {
            now = clock.getAsLong();
            decayTick();
            return decay.isEmpty() ? -1 : decay.nanosUntilNext(now);
        } finally {
            lock.unlock();
        }
    }

    public long purgeCount() {
        return purgeCount;
    }

    /** @return the limit in bytes, as whole pages count it (a limit under a page as it was given: it allows none) */
    public long limitBytes() {
        return limitPages > 0 ? limitPages << PAGE_SHIFT : limitGiven;
    }

    public long reservedBytes() {
        return (long) totalPages << PAGE_SHIFT;
    }

    /**
     * Walks every run from the first page and checks the layer's invariants: tags agree at both ends, no two
     * neighbouring free runs share a state (they would have been merged), the indexes hold exactly the free
     * pages, and their treaps exactly the free runs of 32 pages or more, in order. O(runs): for tests and
     * {@code verify}, never on an allocation path. Returns a description of the first violation, or null.
     */
    public String checkInvariants() {
        lock.lock();
        try {
            checkNotReleased();
            long dirtySeen = 0, cleanSeen = 0, usedSeen = 0, roundingSeen = 0, longDirty = 0, longClean = 0;
            int prevState = -1;
            for (int p = 0; p < totalPages; ) {
                int st = map.state(p);
                long len = map.length(p);
                if (len <= 0 || p + len > totalPages) return "bad run length " + len + " at page " + p;
                int last = (int) (p + len - 1);
                if (map.state(last) != st || map.length(last) != len) return "end tag mismatch for run at page " + p;
                if (map.firstOf(last) != p) return "boundary tag of run at page " + p + " points to " + map.firstOf(last);
                if (!map.isRunStart(p)) return "first page " + p + " of a run does not name itself";
                for (int q = p + 1; q < last && q < p + 64; q++) {
                    if (map.state(q) != PageMap.INTERIOR) return "interior page " + q + " of run at " + p + " is tagged";
                }
                if ((st == PageMap.FREE_DIRTY || st == PageMap.FREE_CLEAN) && st == prevState) {
                    return "two neighbouring free runs of state " + st + " at page " + p;
                }
                switch (st) {
                    case PageMap.FREE_DIRTY -> {
                        dirtySeen += len;
                        if (len >= FreeRunIndex.TREE_MIN) longDirty++;
                    }
                    case PageMap.FREE_CLEAN -> {
                        cleanSeen += len;
                        if (len >= FreeRunIndex.TREE_MIN) longClean++;
                    }
                    case PageMap.USED -> {
                        usedSeen += len;
                        roundingSeen += rounding(len, map.requested(p));
                    }
                    case PageMap.SLAB -> usedSeen += len;
                    default -> { return "unknown state " + st + " at page " + p; }
                }
                prevState = st;
                p += (int) len;
            }
            if (dirtySeen != dirty.pages()) return "dirty pages " + dirtySeen + " but index holds " + dirty.pages();
            if (cleanSeen != clean.pages()) return "clean pages " + cleanSeen + " but index holds " + clean.pages();
            String tree = dirty.checkTree(longDirty, PageMap.FREE_DIRTY);
            if (tree == null) tree = clean.checkTree(longClean, PageMap.FREE_CLEAN);
            if (tree != null) return tree;
            if (usedSeen != usedPages) return "used pages " + usedSeen + " but counter says " + usedPages;
            if (roundingSeen != blockRounding) {
                return "used runs' rounding " + roundingSeen + " bytes but counter says " + blockRounding;
            }
            return null;
        } finally {
            lock.unlock();
        }
    }

    /** A run as the page layer sees it, for snapshots. */
    public record RunInfo(int page, long pages, int state, long requested) {}

    /** Kinds of {@link RunInfo#state()}. */
    public static final int RUN_BLOCK = PageMap.USED, RUN_SLAB = PageMap.SLAB, RUN_DIRTY = PageMap.FREE_DIRTY,
            RUN_CLEAN = PageMap.FREE_CLEAN;

    /**
     * @return every run from the first page to the last run that is not a clean free tail; O(runs), under the
     *         lock. For snapshots and tools.
     */
    public java.util.List<RunInfo> runs() {
        lock.lock();
        try {
            checkNotReleased();
            java.util.List<RunInfo> out = new java.util.ArrayList<>();
            for (int p = 0; p < totalPages; ) {
                int st = map.state(p);
                long len = map.length(p);
                if (len <= 0) break;
                if (st == PageMap.FREE_CLEAN && p + len >= totalPages) break; // the untouched tail
                out.add(new RunInfo(p, len, st, st == PageMap.USED ? map.requested(p) : 0));
                p += (int) len;
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /** Unmaps the page metadata; the caller unmaps the reservation. */
    /** @throws IllegalStateException when {@link #release} ran: the page map is unmapped (the heap is closed) */
    private void checkNotReleased() {
        if (released) throw new IllegalStateException("the page layer was released (its heap is closed)");
    }

    public void release() {
        released = true;
        map.release();
    }
}
