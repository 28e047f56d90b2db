package org.malloc4j.internal.small;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * A cache of slabs, and the fast paths of small malloc and free (mimalloc's thread-local heap).
 *
 * <p>A cache is either <em>exclusive</em>, owned by one platform thread ({@link #thread}), or <em>shared</em>, one
 * of a fixed set of stripes used by virtual threads under {@link #lock()}. Only the holder calls
 * {@link #allocate} and {@link #freeLocal}: they touch no lock and no atomic, and allocate no Java object.
 * Other threads reach a cache only through {@link #pushPending}, a lock-free stack of slabs that received
 * remote frees, which the holder drains on its slow path.
 *
 * <p>Per size class the cache holds a current slab (allocation takes its lowest free block) and a queue of other
 * slabs with free blocks. A slab that fills up leaves both and "floats" until a free makes room in it; it then joins
 * the queue's tail, and a current slab that runs dry is replaced by the queue's head, the slab that has had the
 * longest time to collect frees (mimalloc's page queue). Taking the newest instead (a stack) handed out slabs that
 * had one free block, one slow path per block: 14% of mallocs on a larson loop of 1000 slots, against 4.7% now.
 *
 * <p>A queued slab of four to eight blocks (classes of about 2 KiB and more) that has half its blocks free or more when
 * it reaches the head of its class's queue moves to a second queue, the roomy one, which a malloc takes from only when
 * the first is empty (Hoard's fullness groups, with two groups; {@link #nextQueued}): mallocs fill the slabs that are
 * nearly full, and the roomy ones are left to collect more frees, empty and go back to the page layer, where one
 * queue handed their blocks out again as soon as they came round. Peak committed / peak live, first pass: large-mix
 * 1.287 -> 1.182, realloc-growth 1.870 -> 1.752, gcc-cc1 1.223 -> 1.265, mawk level. Every
 * owned slab is also on an "owned" list, so that another cache can adopt them all when this cache's thread
 * dies. Statistics are plain counters written by the holder, summed by the heap when read.
 *
 * <p>Empty slabs that are not current are <em>spares</em>: they stay queued for their class, so that a program whose
 * slabs fill and empty in a loop does not go to the page layer every time, but only up to this cache's share of the
 * heap's spare budget ({@link #SPARE_BYTES} by default, {@link SlabSource#spareBudget}), all classes together: the
 * whole budget while this cache alone holds slabs, less when others do ({@link ThreadCaches#shareSpares}); beyond it
 * the oldest spare goes back to the page layer, where any class can reuse its pages.
 */
public final class LocalHeap {
    /** Atomic access to the pending stack's head, the middle element of {@link #pendingCell}. */
    private static final VarHandle PENDING_HEAD = MethodHandles.arrayElementVarHandle(Slab[].class);
    /** Where the head sits in {@link #pendingCell}: 16 references (64 bytes or more) from either end. */
    private static final int HEAD = 16;
    /** Atomic access to {@link #collections}. */
    private static final VarHandle COLLECTIONS;
    /** Untorn writes of {@link #spareBudget} by the registry ({@link #spareShare}). */
    private static final VarHandle SPARE_BUDGET;
    /** Ordered access to {@link #placing}. */
    private static final VarHandle PLACING;

    static {
        try {
            COLLECTIONS = MethodHandles.lookup().findVarHandle(LocalHeap.class, "collections", int.class);
            SPARE_BUDGET = MethodHandles.lookup().findVarHandle(LocalHeap.class, "spareBudget", long.class);
            PLACING = MethodHandles.lookup().findVarHandle(LocalHeap.class, "placing", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static final Slab EMPTY = new Slab();
    /** Pending-stack head of a cache that was adopted: pushes are forwarded to the slab's new owner. */
    private static final Slab CLOSED = new Slab();

    /** The thread that owns this cache, or null for a shared stripe. */
    public final Thread thread;
    private final StripeLock lock;
    private final SlabSource source;
    private final Slab[] current = new Slab[SizeClasses.COUNT];
    /** Bit c is set when class c has a current slab (not {@link #EMPTY}): what {@link #spareEmptyCurrents} visits. */
    private final long[] withCurrent = new long[(SizeClasses.COUNT + 63) >>> 6];
    private final Slab[] available = new Slab[SizeClasses.COUNT];
    private final Slab[] availableTail = new Slab[SizeClasses.COUNT];
    /**
     * Only slabs of {@link #ROOMY_MIN} to {@link #ROOMY_MAX} blocks (classes of about 2 KiB and more) go to the roomy
     * queue. Fewer: a class's first slabs hold two or three (see {@link SizeClasses#firstSlabPages}), and sending those
     * to the roomy queue put them behind its larger slabs with one free block (peak committed / peak live gcc-cc1 1.262
     * and mawk 1.245, against 1.245 and 1.214). More: where a slab holds dozens of blocks and frees land all over them
     * (larson's 1,000 slots of 16-1,024 bytes), the first queue, without its roomy slabs, came round before its slabs
     * had collected frees, and mallocs took one with a few free blocks after another: slow paths 4.4% -> 8.2% of
     * mallocs; at most eight blocks, 4.0%.
     */
    private static final int ROOMY_MIN = 4, ROOMY_MAX = 8;
    /** Per class, the queue of slabs with half their blocks free or more, taken after {@link #available}'s. */
    private final Slab[] roomy = new Slab[SizeClasses.COUNT];
    private final Slab[] roomyTail = new Slab[SizeClasses.COUNT];
    /**
     * Objects of slabs given back empty, kept for reuse per class and slab size ({@link #poolIndex}; linked by
     * {@code next}, at most {@link #POOL} each, {@link #MEDIUM_POOL} for a medium class).
     */
    private final Slab[] pool = new Slab[SizeClasses.COUNT * (SizeClasses.RAMP_STEPS + 1)];
    private final byte[] pooled = new byte[pool.length];
    /** Slabs this cache owns per class, which decides the size of its next one ({@link #nextSlabPages}). */
    private final int[] slabsOfClass = new int[SizeClasses.COUNT];
    private static final int POOL = 4;
    /**
     * The objects kept per medium class: a program that holds more medium blocks than the spare budget keeps gives back
     * and takes a slab for most of its frees and mallocs, and with four a class, 12 of 16 128 KiB blocks cycled made
     * new objects (a tenth of the cycle's time). A one-block slab's object, its arrays and padding are a few hundred
     * bytes.
     */
    private static final int MEDIUM_POOL = 16;
    /**
     * The most bytes of spare (empty, not current) slabs a heap's caches keep by default, all classes together: two
     * slabs of the largest class. (Measured on one thread, whose cache has it all.) Two spares per class instead kept
     * 2.25 MB of empty slabs at the peak of gcc's trace, half its live bytes, in 31 classes that were mostly not used
     * again (peak committed / peak live: 1.74, now 1.45; mawk 1.78, now 1.30). A budget of 256 KiB cut a little more
     * but made mawk's replay 11% slower, its strings growing through the medium classes going to the page layer at
     * every step; 512 KiB costs it nothing measurable.
     */
    public static final long SPARE_BYTES = 2L * SizeClasses.MAX_CACHED;
    /**
     * This cache's share of the heap's spare budget ({@link #SPARE_BYTES} unless the heap was built with another): all
     * of it while this cache alone holds slabs. Written by the registry, under its lock, when a cache starts or stops
     * holding slabs ({@link ThreadCaches#shareSpares}); read plainly by the holder where it adds a spare, which then
     * gives back what its share no longer covers ({@link #trimSpares}). Never by another thread on this cache's lists.
     */
    private long spareBudget;
    /**
     * Whether this cache counts in the division of the spare budget: it has taken a slab or adopted a dead thread's.
     * Written by the holder under the registry lock ({@link ThreadCaches#shareSpares}).
     */
    boolean sharesSpares;
    private Slab owned;
    /** Spare slabs, oldest first, and their bytes (with the medium stacks'). */
    private Slab spareHead, spareTail;
    private long spareBytes;
    /**
     * Per medium class, a stack of its empty one-block slabs: a medium malloc takes the top one and a free puts it back,
     * with no queue links, so a program that holds several blocks of a medium class at once does not move slabs between
     * lists (about ten reference stores, each with the collector's barrier) on every malloc and free. Counted in the
     * spare budget; when it is exceeded, the bottoms of the stacks go back to the page layer, one class after another.
     * One flat array: class {@code m}'s stack is the {@link #MEDIUM_DEPTH} entries from {@code m * MEDIUM_DEPTH} (an
     * array of arrays cost a push and a pop one more dependent load each).
     */
    private final Slab[] mediumStacks = new Slab[(SizeClasses.COUNT - SizeClasses.FIRST_MEDIUM) * MEDIUM_DEPTH];
    private final int[] mediumDepth = new int[SizeClasses.COUNT - SizeClasses.FIRST_MEDIUM];
    private static final int MEDIUM_DEPTH = 16;
    /**
     * Bytes of medium spares this cache may keep beyond its share of the spare budget, granted by the source
     * ({@link SlabSource#grantMediumExtra}, at most four times the heap's budget for all caches together). A program
     * that holds more medium blocks than the budget keeps and gives them back together (the fragmentation demo: 16
     * blocks of 128 KiB allocated, then freed) sent most of its frees and mallocs to the page layer and back, 290-590
     * ns a malloc where tcmalloc's thread cache takes 21. A malloc that takes a new medium slab after the budget pushed
     * one of its class out ({@link #mediumEvictions}), while the spares ran low ({@link #spareLow}: spares of other
     * classes sat unused, and then the budget is better spent on this one), is granted that slab's bytes more, so the
     * stacks grow to what the program cycles. The extra goes back when the heap is about to grow past its peak
     * ({@link #dropMediumExtra}), when the spares did not need it for the decay time ({@link #scavengeMediumExtra}), on
     * {@code trim()} ({@link #releaseEmpty}) and when the cache is adopted ({@link #adopt}). Holder only.
     */
    private long mediumExtra;
    /**
     * Per medium class, the slabs of that class the spare budget pushed out of its stack and not yet answered by a
     * malloc of the class that took a new slab (at most {@link #MEDIUM_DEPTH}): a program that walks through classes,
     * each used once, pushes out slabs that no malloc misses, and is granted nothing.
     */
    private final byte[] mediumEvictions = new byte[SizeClasses.COUNT - SizeClasses.FIRST_MEDIUM];
    /** Whether a medium malloc missed a slab the budget had pushed out since {@link #scavengedAt}: still cycling. */
    private boolean missedSinceScavenge;
    /** The fewest spare bytes this cache held since {@link #scavengedAt}: what it did not need in that time. */
    private long spareLow;
    private long scavengedAt;
    private int mediumEvictCursor;
    /** Bit m set while medium stack m is not empty: what {@link #releaseNextMediumBottom} looks at. */
    private long mediumStacked;

    static {
        if (SizeClasses.COUNT - SizeClasses.FIRST_MEDIUM > Long.SIZE) throw new AssertionError("medium classes > 64");
    }
    /**
     * The slab that most recently became current for some class: free looks here before the heap's directory. Its
     * base and span load before the address is known, so a hit takes the two dependent directory loads off the
     * latency chain of a malloc-free loop (jemalloc's rtree context cache plays the same part for its radix tree).
     * Set on the slow path only: a reference store on every malloc would pay the collector's write barrier. Never
     * a slab that was given back: {@link #release} resets it.
     */
    private Slab recent = EMPTY;
    /**
     * The head of the stack of slabs with remote frees to collect ({@link #pushPending}), alone on its cache lines:
     * other threads push onto it with a compare-and-set, and as a field of this object it shared a line with
     * {@link #current}, {@link #recent} and {@link #thread}, which this cache's holder reads on every malloc and free
     * (field offsets 68-124 of a 128-byte object), so that every push cost the holder a cache miss on its next call.
     * A plain array whose middle element is the head keeps 64 bytes of nothing on either side.
     */
    private final Slab[] pendingCell = new Slab[2 * HEAD + 1];

    // Statistics, written by the holder only; read racily by HeapStats (exact once threads are quiescent).
    public long live, peak, mallocs, frees;
    /**
     * The rounding of the medium blocks this cache counted: for each, its class's bytes (its slab's whole pages) less
     * the size asked for, bytes that are the block's until it is freed, neither live nor free. Added by the holder's
     * medium mallocs, taken out by the free, whichever thread's cache frees it (a realloc in place changes it in the
     * caller's cache), so only the sum over caches means anything. Counted on the medium paths only: a small block's
     * rounding lies in a slab of several blocks and counts as free (see {@code HeapStats#freeBytes}).
     */
    public long mediumRounding;
    /**
     * Odd while {@link #drainPending} runs: between taking the pending stack and counting the slack of the blocks it
     * collects back, this cache's live bytes read low by that slack, so {@link #liveBytes} reads again (a sequence
     * lock). Holder only; the purger drains a stripe while no operation is in flight, and two stats() calls around
     * nothing read different live bytes there (the fuzz campaign on CI, 6,273 bytes low).
     */
    private int collections;
    /**
     * Bytes of blocks a realloc of this cache's holder is moving, set aside from {@link #live} meanwhile
     * ({@code HeapCore.setAside}): a refusal's message counts them as live. Holder only; read racily.
     */
    public long movingBytes;
    /**
     * The thread whose realloc is moving a block that stays where it is if the move is refused (a shrink, or a growth
     * within its usable bytes), else null: the engine's refusal of that move refuses the program nothing, and is not
     * told to JFR ({@code HeapCore.exhausted}). Holder only, and an exclusive cache's only: a stripe's virtual threads
     * are marked per thread ({@code HeapCore.MOVING_IN_PLACE_IF_REFUSED}). Read racily, by the thread it names.
     */
    public Thread movingInPlaceIfRefused;
    /**
     * The bytes the program asked for while the holder allocates a block for a layer of the heap that asks for more (an
     * arena's segment and its offset, a chunk to carve a segment from), else -1: what a refusal tells JFR
     * ({@code HeapCore.newSlab}). Holder only.
     */
    public long asked = -1;
    /** A block another cache lent this one's refused slow path ({@link #lend}), until it returns it; holder only. */
    private long lent;
    /**
     * The CHECKED layer's placements from this cache under way: each one marks itself here before the engine hands
     * it a block ({@link #placingStarts}) and unmarks itself once it has written the block's header
     * ({@link #placingEnds}), so that a concurrent {@code verify()} can tell a block whose header is still to come
     * from a damaged one ({@link #placingNow}). An exclusive cache's holder alone writes it, 1 then 0 (a thread places
     * one block at a time), with ordered plain stores: no atomic on its malloc, and no load (a count's increment cost
     * the CHECKED 16-byte pair about 1% more). A stripe's virtual threads count themselves in it atomically, as several
     * of them may be between their block and its header at once (the stripe's lock is held around the engine's call
     * only). Never written in FAST mode.
     */
    private int placing;
    /** Slow paths taken, for sampling (holder only). */
    public int slowPaths;
    /** Bytes left to allocate before the next allocation-site sample (holder only; racy on shared stripes). */
    public long sampleCountdown;

    private LocalHeap(Thread thread, StripeLock lock, SlabSource source) {
        this.thread = thread;
        this.lock = lock;
        this.source = source;
        this.sampleCountdown = source.firstSampleCountdown();
        this.spareBudget = source.spareBudget();
        this.scavengedAt = source.nanoTime(); // a clock's origin may be anywhere: the first period starts now
        java.util.Arrays.fill(current, EMPTY);
    }

    /** @return a cache owned by {@code thread} */
    public static LocalHeap exclusive(Thread thread, SlabSource source) {
        return new LocalHeap(thread, null, source);
    }

    /** @return a cache shared by virtual threads, each holding {@link #lock()} while it uses the cache */
    public static LocalHeap shared(SlabSource source) {
        return new LocalHeap(null, new StripeLock(), source);
    }

    /** @return the lock of a shared cache, or null for an exclusive one */
    public StripeLock lock() {
        return lock;
    }

    /**
     * A CHECKED placement from this cache starts: called before the engine's call that takes its block, by the
     * exclusive cache's holder, or by a virtual thread of the stripe (without its lock). The fence keeps the engine's
     * stores that make the block live (its slab's bitmap) from becoming visible before this mark.
     */
    public void placingStarts() {
        if (thread != null) PLACING.setRelease(this, 1); // release: see placingNow
        else PLACING.getAndAdd(this, 1);
        VarHandle.storeStoreFence();
    }

    /** The placement {@link #placingStarts} marked has written its block's header (release: the header first). */
    public void placingEnds() {
        if (thread != null) PLACING.setRelease(this, 0);
        else PLACING.getAndAddRelease(this, -1);
    }

    /**
     * Whether a CHECKED placement from this cache may be under way, for a {@code verify()} that saw a block of one of
     * its slabs live with no header and looks at it again after this call. Sound under the Java memory model, with the
     * fences' documented orderings (as {@link java.util.concurrent.locks.StampedLock#validate} uses them): let P be the
     * placement whose engine call made the block live as the first look saw it. The first look read the slab's bitmap
     * after P's mark was stored (the store-store fence of {@link #placingStarts}; a stripe's later holders follow P
     * through its lock) and before this read (the load-load fence here), so this read returns P's mark or a value
     * after it. A value written by P's end or after (an exclusive cache's holder writes 0 only to end a placement, and
     * never ends one before P's; a stripe's count moves by read-modify-writes, a release sequence) is read with
     * acquire from a release store that P's header comes before: the second look finds that header, or what a free
     * wrote over it, not the first look's words. Any other value is not 0: P's mark or a later one, or a count of P.
     */
    public boolean placingNow() {
        VarHandle.loadLoadFence(); // the caller's first look at the block before this read
        return (int) PLACING.getAcquire(this) != 0; // and this read before its second look
    }

    /** Allocates a block of class {@code c} for a request of {@code size} bytes. Holder only. */
    public long allocate(int c, long size) {
        Slab s = current[c];
        long summary = s.summary;
        if (summary != 0) {
            int w = Long.numberOfTrailingZeros(summary);
            long word = s.bits[w << 1];
            // The word's remote bits, on the free word's cache line: one over a free block is a double free that
            // slipped through (Slab's class comment), which a collection after a malloc of the block would take for a
            // free of it. The whole word, not the block's bit alone: one instruction less on every malloc
            if ((s.bits[(w << 1) + 1] & word) != 0) return allocateTwiceFreed(s, c, size);
            int idx = (w << 6) | Long.numberOfTrailingZeros(word);
            word &= word - 1;
            s.bits[w << 1] = word;
            if (word == 0) s.summary = summary & ~(1L << w);
            s.used++;
            s.setRequested(idx, size);
            countMalloc(size);
            return s.base + (long) idx * s.blockSize;
        }
        return allocateSlow(c, size);
    }

    /**
     * {@link #allocate}'s block had its remote bit set although it was free: the owner and another thread freed it at
     * the same moment and both frees succeeded. The remote bits of free blocks are taken back first (with the second
     * count), so that no collection frees the block once the program holds it again.
     */
    private long allocateTwiceFreed(Slab s, int c, long size) {
        s.dropTwiceFreed();
        return allocate(c, size);
    }

    /**
     * @return whether this cache has counted nothing yet: no malloc, free, resize or unseen bytes (what
     *         {@link ThreadCaches#singleUser} calls unused)
     */
    public boolean neverCounted() {
        return (mallocs | frees | live | peak) == 0;
    }

    /** Counts an allocation of {@code size} requested bytes (small, or medium made by this cache's holder). */
    public void countMalloc(long size) {
        mallocs++;
        long l = live + size;
        live = l;
        if (l > peak) peak = l;
    }

    /** Counts a free of a block of {@code size} requested bytes. */
    public void countFree(long size) {
        frees++;
        live -= size;
    }

    /** Takes back the count of a free that was counted twice (see {@link Slab#collect()}). Holder only. */
    void uncountFree(long size) {
        frees--;
        live += size;
    }

    /** Moves bytes out of or back into the live count, without counting a malloc or free or moving the peak. */
    public void countUnseen(long delta) {
        live += delta;
    }

    /** Counts a change of a live block's requested size (realloc in place). */
    public void countResize(long oldSize, long newSize) {
        long l = live + newSize - oldSize;
        live = l;
        if (l > peak) peak = l;
    }

    private long allocateSlow(int c, long size) {
        drainPending();
        // A medium block from its class's stack without the heap's slow-path hook (its counter and periodic peak
        // sample): a quarter of mawk's mallocs come here, each a slow path by construction.
        if (c >= SizeClasses.FIRST_MEDIUM && mediumDepth[c - SizeClasses.FIRST_MEDIUM] > 0) {
            return allocateStacked(c, size);
        }
        source.onSlowPath(this);
        Slab s = current[c];
        if (s.summary == 0) {
            Slab next;
            if ((next = nextQueued(c)) != null) {
                unlink(next);
            } else {
                spareEmptyCurrents();
                trimSpares(); // within a share that shrank, whether or not a current slab became a spare
                next = source.newSlab(c, this, size);
                if (next == null) return afterRefusal(c, size);
                own(next);
                if (c >= SizeClasses.FIRST_MEDIUM) missedMedium(c, next.bytes());
                s = current[c]; // a refusal's frees may have emptied the old one meanwhile (see SlabSource.newSlab)
            }
            if (s != EMPTY) s.isCurrent = false;
            next.isCurrent = true;
            setCurrent(c, next);
            recent = next;
        }
        long p = allocate(c, size);
        // A medium block: every one comes here (its slab is full from its one malloc on), or to allocateStacked
        if (c >= SizeClasses.FIRST_MEDIUM) mediumRounding += SizeClasses.size(c) - size;
        return p;
    }

    /**
     * The page layer refused this cache a slab, and the refusal took back room without pages (see
     * {@link SlabSource#newSlab}): a block another cache lent ({@link #lend}), or room of class {@code c} in this cache
     * now, which its slow path, run again, finds without asking for a slab ({@link #hasRoom}).
     */
    private long afterRefusal(int c, long size) {
        long p = lent;
        if (p == 0) return allocate(c, size);
        lent = 0;
        return p;
    }

    /**
     * Hands this cache's holder a block another cache allocated for it ({@code SlabSource.newSlab}, which then returns
     * null): it is counted there, and its free is a remote one. Holder only, inside its slow path.
     */
    public void lend(long block) {
        lent = block;
    }

    /**
     * @return whether a malloc of class {@code c} finds a block here without a new slab: in the current slab, on the
     *         class's queues, or on its medium stack. Holder only.
     */
    public boolean hasRoom(int c) {
        return current[c].summary != 0 || hasQueued(c)
                || c >= SizeClasses.FIRST_MEDIUM && mediumDepth[c - SizeClasses.FIRST_MEDIUM] > 0;
    }

    /**
     * A medium block from the top of its class's stack of empty one-block slabs: the slab's one block is taken and
     * the slab floats, full, as any full slab does (its free puts it back on the stack); it does not become the
     * class's current slab, whose one block would be taken at once anyway. A quarter of mawk's mallocs are such
     * blocks, and making each one current cost two list changes and a reference store a malloc/free cycle.
     */
    private long allocateStacked(int c, long size) {
        Slab s = popMedium(c);
        if ((s.bits[1] & 1) != 0) s.dropTwiceFreed(); // see allocate
        s.wideSlack = 0; // kept while the block was free (see freedMedium): a malloc's size is slack[0] alone
        s.bits[0] &= ~1L;
        s.summary = 0;
        s.used = 1;
        s.setRequested(0, size);
        countMalloc(size);
        mediumRounding += s.blockSize - size;
        return s.base;
    }

    /** What {@link #recentIndex} returns for an address outside this cache's latest slab. */
    public static final int NOT_RECENT = -2;

    /**
     * The fast path's guess of where {@code address} is, for the holder of an exclusive cache (the heap tries it for
     * its first thread only, see {@code HeapCore.free}): its block index in this cache's latest slab ({@link #recent()}),
     * -1 when it lies among that slab's blocks but not at the start of one, or {@link #NOT_RECENT}, and the caller then
     * finds the slab through the heap's directory. Either way the caller validates the block and frees it with the same,
     * single {@link #freeLocal} call. One method for the range and the index, called on every free, so that C2 treats
     * it as hot and inlines it whatever the share of hits; a guess that freed the block itself made a second inlined
     * copy of {@code freeLocal}, which C2 stopped inlining once a loop's slow paths had run, and every hit was a call.
     */
    public int recentIndex(long address) {
        Slab slab = recent;
        long rel = address - slab.base;
        return Long.compareUnsigned(rel, slab.span) < 0 ? slab.indexAt(rel) : NOT_RECENT;
    }

    /** @return this cache's latest slab, the one {@link #recentIndex} looks in */
    public Slab recent() {
        return recent;
    }

    /**
     * Frees block {@code idx} of {@code slab}, a slab of this cache. Holder only. Returns false, changing
     * nothing, when the block is not allocated.
     */
    public boolean freeLocal(Slab slab, int idx) {
        int w = idx >>> 6, i = w << 1;
        long bit = 1L << idx;
        long[] bits = slab.bits;
        long word = bits[i];
        if (((word | bits[i + 1]) & bit) != 0) return false; // free, or freed by another thread and not collected
        bits[i] = word | bit;
        long summary = slab.summary;
        // Stored whether or not the word's bit changes (the summary is the owner's alone): the test that skipped the
        // store cost the 16 and 64 B pairs 2-4% (BuildsInTurn, 2026-12-07; 256 B and larson level)
        slab.summary = summary | (1L << w);
        countFree(slab.requested(idx));
        int used = --slab.used;
        // A slab that is not current changes queues: it became non-full, or empty. A current slab stays, unless it has
        // one block (a medium class): empty, it becomes a spare, within the cache's budget. (Whether a queued slab is
        // half free is asked by the slow path that reaches it, not here: see nextQueued.)
        if ((used == 0 || used == slab.capacity - 1) && (!slab.isCurrent || slab.capacity == 1)) {
            if (slab.capacity == 1) freedMedium(slab);
            else afterFree(slab);
        }
        return true;
    }

    /**
     * The owner freed a medium block: its rounding goes ({@link #mediumRounding}; a block another thread frees loses
     * its rounding in that thread's free, see {@link #freeRemote}), and its slab is {@link #emptiedMedium}. Called by
     * the owner's free directly, one call where {@link #afterFree} then {@link #stackMedium} were two.
     */
    private void freedMedium(Slab slab) {
        int wide = slab.wideSlack;
        // Shrunk far in place: freeLocal counted the block's requested() that many bytes too large. The wide slack
        // stays until the block is handed out again (allocateStacked): another thread's free racing this one read it
        // in the block's rounding, which the owner's collection of that second free takes back (Slab.collectRemote).
        // Reset here, it made that rounding wideSlack bytes short
        if (wide != 0) countUnseen(wide);
        mediumRounding -= slab.blockSize - slab.requested(0) + wide;
        emptiedMedium(slab);
    }

    /**
     * A medium block's slab is empty: it goes on its class's stack, without the spare accounting's loops when the stack
     * and the budget have room (a quarter of mawk's frees).
     */
    private void emptiedMedium(Slab slab) {
        if (slab.isCurrent) {
            slab.isCurrent = false;
            setCurrent(slab.sizeClass, EMPTY);
        }
        if (slab.listed) unlink(slab);
        int m = slab.sizeClass - SizeClasses.FIRST_MEDIUM, d = mediumDepth[m];
        long bytes = slab.bytes();
        if (d < MEDIUM_DEPTH && spareBytes + bytes <= spareBudget + mediumExtra) pushMedium(m, slab, bytes);
        else stackMedium(slab);
    }

    /**
     * Frees block {@code idx} of {@code slab}, a slab of another cache, on behalf of this cache's holder: the block
     * goes to the slab's remote bitmap and the slab, if not queued already, to its owner's pending stack.
     * Counted in this cache's statistics at the block's size: the owner counts its slack back when it collects it
     * (see {@link Slab}). Returns false, changing nothing, when the block is not allocated.
     */
    public boolean freeRemote(Slab slab, int idx) {
        if (slab.capacity == 1) return freeRemoteMedium(slab);
        if (!slab.freeRemote(idx)) return false;
        countFree(slab.blockSize);
        if (slab.markPending()) slab.owner.pushPending(slab);
        return true;
    }

    /**
     * {@link #freeRemote} of a medium block, which takes its rounding out of this cache's {@link #mediumRounding} (its
     * free, not its owner's collection, ends it: statistics read between the two saw its pages neither live nor free).
     * The rounding is read before the block is claimed: once it is, its owner may collect it and hand it out again.
     */
    private boolean freeRemoteMedium(Slab slab) {
        int rounding = slab.blockSize - slab.requestedSize(0);
        if (!slab.freeRemote(0)) return false;
        countFree(slab.blockSize);
        mediumRounding -= rounding;
        if (slab.markPending()) slab.owner.pushPending(slab);
        return true;
    }

    /**
     * @return this cache's live bytes as statistics count them: its counter, plus the slack other threads' frees of its
     *         blocks still owe it ({@link #uncollectedSlack}). Any thread; racy while the holder allocates or frees,
     *         exact when no operation is in flight: it waits for a collection in progress (the purger collects a stripe
     *         on its own) for as long as that collection takes, and reads without waiting only once it has seen a
     *         second collection start, which no quiescent heap makes (see {@link #QUIESCENT_SPAN}).
     *
     *         <p>Waiting cannot deadlock: a collection waits for nothing but the page lock (an emptied slab given
     *         back), which comes after the registry lock that {@code ThreadCaches.counted()} holds, and no holder of
     *         the page lock reads this (it reads {@link #racyLiveBytes}). Until 2026-12-07 the wait gave up after
     *         200 ms and read the sum racily: the purger descheduled inside a stripe's collection on a loaded machine
     *         made a quiescent heap's live bytes read low by the slack of the slabs it had not collected yet
     *         (VirtualThreadStressTest, 3,447 bytes; LiveBytesDuringCollectionTest).
     */
    public long liveBytes() {
        int first = (int) COLLECTIONS.getAcquire(this);
        long park = MIN_PARK_NANOS;
        for (int tries = 0; ; tries++) {
            int v = tries == 0 ? first : (int) COLLECTIONS.getAcquire(this);
            if ((v & 1) == 0) {
                long l = live + uncollectedSlack();
                VarHandle.acquireFence(); // the reads above before the sequence's second read
                if ((int) COLLECTIONS.getOpaque(this) == v) return l;
            }
            // The holder collects again and again: operations are in flight, and no sum is exact then anyway
            if (v - first > QUIESCENT_SPAN && tries >= SPINS) return racyLiveBytes();
            if (tries < SPINS) {
                Thread.onSpinWait();
            } else if (tries < SPINS + YIELDS) {
                Thread.yield();
            } else {
                // A holder descheduled or waiting for the page lock inside its collection: parked, a virtual thread
                // gives its carrier back (the holder may be a virtual thread that needs one)
                LockSupport.parkNanos(this, park);
                park = Math.min(MAX_PARK_NANOS, park * 2);
            }
        }
    }

    /**
     * @return {@link #liveBytes} without waiting for a collection in progress: low by its slack meanwhile. For a
     *         caller under the page lock, which a collection may be waiting for.
     */
    public long racyLiveBytes() {
        return live + uncollectedSlack();
    }

    /**
     * How far {@link #collections} moves during one {@link #liveBytes} on a heap where no operation is in flight: by
     * 2 at most, the end of the collection in progress at its first read, or the start and end of one that began after
     * it. The purger collects a stripe once for the frees waiting there (its stack is then empty until a program's free
     * queues a slab again), and only a cache's holder or the purger collects. A sequence seen past it is a holder
     * collecting again, in the middle of operations.
     */
    private static final int QUIESCENT_SPAN = 2;
    /** {@link #liveBytes}'s spins, then yields, before it parks. */
    private static final int SPINS = 64, YIELDS = 64;
    /** The first and the longest park of {@link #liveBytes} between two reads. */
    private static final long MIN_PARK_NANOS = 1_000, MAX_PARK_NANOS = 1_000_000;

    /** Most slabs {@link #uncollectedSlack} visits: a bound on a walk of a stack that other threads change under it. */
    private static final int MAX_PENDING_WALK = 1 << 20;

    /**
     * @return the slack of this cache's blocks that other threads freed and this cache has not collected yet (see
     *         {@link Slab#remoteSlack}): what statistics add to the caches' live bytes meanwhile. Any thread; racy,
     *         exact when the heap's threads are quiescent (every slab with such blocks is then on this stack). O(slabs
     *         pending times their bitmap words).
     */
    public long uncollectedSlack() {
        long owed = 0;
        Slab s = (Slab) PENDING_HEAD.getVolatile(pendingCell, HEAD);
        for (int n = 0; s != null && s != CLOSED && n < MAX_PENDING_WALK; n++, s = s.nextPending) owed += s.remoteSlack();
        return owed;
    }

    /**
     * A slab became non-full or empty, or had remote frees collected: file it on its class's queue (the roomy one when
     * half its blocks are free; a slab that gets there one free at a time moves when the slow path reaches it, see
     * {@link #nextQueued}), or make it current when its class's current slab is full ({@link #takeOver}). An empty
     * slab becomes a spare; an emptied one-block slab (a medium class) goes on its class's stack
     * ({@link #emptiedMedium}), current or not, so that its pages count against the spare budget and can go back to the
     * page layer. O(1) but for the spares it releases, each of which it took in once.
     */
    private void afterFree(Slab slab) {
        if (slab.capacity == 1) { // empty: its one block was freed (remote frees collected, or an empty current slab)
            emptiedMedium(slab); // its rounding went with the free that emptied it
            return;
        }
        if (slab.isCurrent) return;
        if (!slab.listed) {
            if (slab.used != 0 && current[slab.sizeClass].summary == 0) {
                takeOver(slab);
                return;
            }
            // Half free or more at once: remote frees collected together
            if (slab.used <= slab.capacity >>> 1 && roomyKind(slab)) linkRoomy(slab);
            else link(slab);
        } else if (!slab.roomy && slab.used <= slab.capacity >>> 1 && roomyKind(slab)) {
            requeueRoomy(slab); // emptied on the first queue: roomy before it becomes a spare
        }
        if (slab.used == 0 && !slab.spare) keepSpare(slab);
    }

    /**
     * @return the slab a class's slow path takes: the first queue's head, once the heads that have half their blocks
     *         free or more have moved to the roomy queue (at most {@link #ROOMY_MOVES} of them: O(1)), else the roomy
     *         queue's head, else null. A slab is classed when it reaches the head, not on the free that makes it half
     *         free: asked on every free, that test cost larson's one-thread loop a fifth of its speed (C2's code for
     *         the free grew), where here it costs a slow path a few loads.
     */
    private Slab nextQueued(int c) {
        Slab next = available[c];
        for (int k = 0; next != null && k < ROOMY_MOVES && roomyKind(next) && next.used <= next.capacity >>> 1; k++) {
            requeueRoomy(next);
            next = available[c];
        }
        return next != null ? next : roomy[c];
    }

    private static final int ROOMY_MOVES = 4;

    /** Moves {@code s} from its class's first queue to the tail of the roomy one; a spare stays a spare. */
    private void requeueRoomy(Slab s) {
        detach(s);
        linkRoomy(s);
    }

    /** @return whether {@code slab} goes to the roomy queue once half its blocks are free (see {@link #ROOMY_MAX}) */
    private static boolean roomyKind(Slab slab) {
        return slab.capacity >= ROOMY_MIN && slab.capacity <= ROOMY_MAX;
    }

    /**
     * A full slab got a free while its class's current slab is full too (or there is none): it becomes the current
     * slab at once, where queueing it would have the class's next malloc take the slow path to unqueue it. Its
     * neighbours on the queue are not touched, and the queue keeps its order for the slabs that wait there. Measured
     * on mawk, whose blocks of 2-32 KiB sit four to sixteen to a slab: slow paths 27.9% -> 19.1% of its mallocs.
     */
    private void takeOver(Slab slab) {
        Slab full = current[slab.sizeClass];
        if (full != EMPTY) full.isCurrent = false; // full, so on no list: its next free files it
        slab.isCurrent = true;
        setCurrent(slab.sizeClass, slab);
    }

    /**
     * Keeps the empty, listed {@code slab} as the newest spare, then gives the oldest spares back to the page layer
     * while the spares exceed the budget (medium stacks too, once the list is empty: the share may have shrunk).
     */
    private void keepSpare(Slab slab) {
        slab.spare = true;
        slab.prevSpare = spareTail;
        slab.nextSpare = null;
        if (spareTail != null) spareTail.nextSpare = slab;
        else spareHead = slab;
        spareTail = slab;
        spareBytes += slab.bytes();
        trimSpares();
    }

    /**
     * Gives spares back, oldest first, while they exceed this cache's share of the budget: a no-op but where the share
     * shrank since the last spare was kept (another cache started holding slabs). Holder only.
     */
    private void trimSpares() {
        while (spareBytes > spareBudget + mediumExtra && releaseSpare() != 0) {
            // one spare a call
        }
    }

    /**
     * Sets this cache's share of the heap's spare budget (see {@link #spareBudget}); the registry, under its lock, any
     * thread. The holder gives back what exceeds it when it next keeps a spare or takes a new slab.
     */
    void spareShare(long bytes) {
        SPARE_BUDGET.setOpaque(this, bytes);
    }

    /** Puts an empty medium slab on its class's stack, making room within the spare budget. */
    private void stackMedium(Slab slab) {
        int m = slab.sizeClass - SizeClasses.FIRST_MEDIUM;
        long bytes = slab.bytes(), limit = spareBudget + mediumExtra;
        if (bytes > limit) { // a budget of 0 (Heap.Builder.spareBytes) keeps no spare
            release(slab);
            if (spareBudget > 0) evictedMedium(m);
            trimSpares(); // a share that shrank below this slab: the others exceed it too
            return;
        }
        while (spareBytes + bytes > limit && spareHead != null) releaseOldestSpare();
        if (mediumDepth[m] == MEDIUM_DEPTH) releaseMediumBottom(m);
        while (spareBytes + bytes > limit && mediumStacked != 0) { // only medium spares are left
            int k = nextStackedMedium();
            evictedMedium(k);
            releaseMediumBottom(k);
        }
        pushMedium(m, slab, bytes);
    }

    /** The budget pushed a slab of medium class {@code m} out of its stack: the class's next miss asks for more. */
    private void evictedMedium(int m) {
        if (mediumEvictions[m] < MEDIUM_DEPTH) mediumEvictions[m]++;
    }

    /**
     * A malloc of medium class {@code c} took a new slab of {@code bytes}: if the budget pushed one of the class out of
     * its stack since, the program cycles more blocks of it than the stacks keep, and asks the source for that slab's
     * bytes more.
     */
    private void missedMedium(int c, long bytes) {
        int m = c - SizeClasses.FIRST_MEDIUM;
        if (mediumEvictions[m] == 0) return;
        mediumEvictions[m]--;
        if (spareLow >= bytes) return; // spares sat unused since the last scavenge: the budget holds other classes
        missedSinceScavenge = true;
        mediumExtra += source.grantMediumExtra(bytes);
        spareLow = spareBytes; // the next grant waits for the spares to run low again
    }

    /** @return whether this cache holds medium extra ({@link #mediumExtra}); holder only, or a racy hint */
    public boolean holdsMediumExtra() {
        return mediumExtra != 0;
    }

    /**
     * Gives this cache's medium extra back to the source, and the spares beyond its share of the budget back to the
     * page layer: the heap is about to grow past its peak ({@code HeapCore.releaseSparesBeforeGrowth}, and before a
     * page run, {@code HeapCore.dropMediumExtraBeforeGrowth}). Holder only.
     */
    public void dropMediumExtra() {
        if (mediumExtra == 0) return;
        source.returnMediumExtra(mediumExtra);
        mediumExtra = 0;
        java.util.Arrays.fill(mediumEvictions, (byte) 0);
        trimSpares();
    }

    /**
     * Gives back the medium extra that this cache's spares did not need since the last call at least the source's
     * decay time ago, when no medium malloc missed a slab the budget had pushed out in that time: the fewest spare
     * bytes it held then ({@link #spareLow}), as tcmalloc's thread caches give back their lists' low-water marks. (A
     * program still cycling keeps it: giving it back and being granted it again made a steady random loop of every
     * block kind purge 290 times in two minutes, not 44.) A program that stops cycling medium blocks keeps the extra
     * for one to two decay times of slow paths; a thread that stops altogether keeps it, as it keeps its share of the
     * budget, until the heap grows under it, it ends, or its {@code trim()}. Holder only, every 64th slow path.
     */
    public void scavengeMediumExtra() {
        long now = source.nanoTime();
        if (now - scavengedAt < source.scavengeNanos()) return;
        scavengedAt = now;
        long unused = missedSinceScavenge ? 0 : Math.min(spareLow, mediumExtra);
        missedSinceScavenge = false;
        spareLow = spareBytes;
        if (unused <= 0) return;
        source.returnMediumExtra(unused);
        mediumExtra -= unused;
        trimSpares();
        spareLow = spareBytes;
    }

    /** Puts {@code slab} on top of medium stack {@code m}, which has room, and counts its bytes as spare. */
    private void pushMedium(int m, Slab slab, long bytes) {
        mediumStacks[m * MEDIUM_DEPTH + mediumDepth[m]++] = slab;
        mediumStacked |= 1L << m;
        spareBytes += bytes;
    }

    private void releaseMediumBottom(int m) {
        int at = m * MEDIUM_DEPTH;
        Slab bottom = mediumStacks[at];
        int d = --mediumDepth[m];
        if (d == 0) mediumStacked &= ~(1L << m);
        System.arraycopy(mediumStacks, at + 1, mediumStacks, at, d);
        mediumStacks[at + d] = null;
        spareTaken(bottom.bytes());
        release(bottom);
    }

    /** @return the top slab of medium class {@code c}'s stack, which is not empty, taken off it */
    private Slab popMedium(int c) {
        int m = c - SizeClasses.FIRST_MEDIUM;
        int d = --mediumDepth[m];
        if (d == 0) mediumStacked &= ~(1L << m);
        int top = m * MEDIUM_DEPTH + d;
        Slab s = mediumStacks[top];
        mediumStacks[top] = null;
        spareTaken(s.bytes());
        return s;
    }

    /**
     * Gives every spare of this cache back to the page layer, oldest first: for a request the page layer refused,
     * which the room they hold may let through. Holder only.
     */
    public void releaseAllSpares() {
        while (releaseSpare() != 0) {
            // one spare a call
        }
    }

    /**
     * Gives this cache's oldest spare back to the page layer: an empty slab from its spares, else the bottom of a
     * medium class's stack. Holder only.
     *
     * @return the pages given back, 0 when it had no spare
     */
    public int releaseSpare() {
        if (spareHead != null) {
            int p = spareHead.pages;
            releaseOldestSpare();
            return p;
        }
        return releaseNextMediumBottom();
    }

    /**
     * Gives back the bottom of the next non-empty medium stack, round robin over the classes: the slab that class
     * freed longest ago. O(1): the next set bit of {@link #mediumStacked} from the cursor on, wrapping around.
     *
     * @return the pages given back, 0 when every stack is empty
     */
    private int releaseNextMediumBottom() {
        if (mediumStacked == 0) return 0;
        int k = nextStackedMedium();
        int p = mediumStacks[k * MEDIUM_DEPTH].pages;
        releaseMediumBottom(k);
        return p;
    }

    /**
     * @return the next non-empty medium stack from the round-robin cursor on, which moves past it: the next set bit of
     *         {@link #mediumStacked}, wrapping around. O(1); some stack must not be empty
     */
    private int nextStackedMedium() {
        int k = (Long.numberOfTrailingZeros(Long.rotateRight(mediumStacked, mediumEvictCursor)) + mediumEvictCursor)
                & (Long.SIZE - 1);
        mediumEvictCursor = (k + 1) & (Long.SIZE - 1);
        return k;
    }

    private void releaseOldestSpare() {
        Slab oldest = spareHead;
        unlink(oldest); // leaves the spares too
        release(oldest);
    }

    /**
     * Before this cache takes pages for a new slab: the current slabs of other classes that are empty become spares,
     * within the budget, so that a class used once (a string that grew through it, say) does not keep a slab for
     * good. On a path that goes to the page layer anyway, and it visits only the classes that have a current slab
     * ({@link #withCurrent}): a cache uses a few dozen of the classes. A class in a malloc-free loop loses nothing
     * but a slow path: its next malloc takes its spare back.
     */
    private void spareEmptyCurrents() {
        for (int w = 0; w < withCurrent.length; w++) {
            for (long bits = withCurrent[w]; bits != 0; bits &= bits - 1) {
                int k = (w << 6) | Long.numberOfTrailingZeros(bits);
                Slab s = current[k];
                if (s.used == 0) {
                    s.isCurrent = false;
                    setCurrent(k, EMPTY);
                    afterFree(s); // a spare, or on its medium class's stack
                }
            }
        }
    }

    /** Makes {@code s} the current slab of class {@code c} ({@link #EMPTY} for none), keeping {@link #withCurrent}. */
    private void setCurrent(int c, Slab s) {
        current[c] = s;
        if (s == EMPTY) withCurrent[c >>> 6] &= ~(1L << c);
        else withCurrent[c >>> 6] |= 1L << c;
    }

    /** Gives every empty slab back to the page layer, current ones too (for {@code trim()}). Holder only. */
    public void releaseEmpty() {
        spareEmptyCurrents();
        while (spareHead != null) releaseOldestSpare();
        for (int m = 0; m < mediumDepth.length; m++) {
            while (mediumDepth[m] > 0) releaseMediumBottom(m);
        }
        source.returnMediumExtra(mediumExtra); // nothing left for it to keep
        mediumExtra = 0;
        java.util.Arrays.fill(mediumEvictions, (byte) 0);
    }

    private void removeSpare(Slab s) {
        if (s.prevSpare != null) s.prevSpare.nextSpare = s.nextSpare;
        else spareHead = s.nextSpare;
        if (s.nextSpare != null) s.nextSpare.prevSpare = s.prevSpare;
        else spareTail = s.prevSpare;
        s.nextSpare = s.prevSpare = null;
        s.spare = false;
        spareTaken(s.bytes());
    }

    /** Counts {@code bytes} of spares taken back into use or given back, and the low-water mark ({@link #spareLow}). */
    private void spareTaken(long bytes) {
        long left = spareBytes - bytes;
        spareBytes = left;
        if (left < spareLow) spareLow = left;
    }

    /**
     * Queues {@code slab}, which has remote frees, for its owner; any thread, lock-free (Treiber push). If this
     * cache was adopted meanwhile, the slab is forwarded to its new owner: the adopter set every slab's owner
     * before closing the stack, and our read of {@code CLOSED} (volatile) sees those writes.
     */
    public void pushPending(Slab slab) {
        Slab head;
        do {
            head = (Slab) PENDING_HEAD.getVolatile(pendingCell, HEAD);
            if (head == CLOSED) {
                // The adopter re-owned every slab this cache still had. A slab still naming this cache was given
                // back empty before the adoption: its remote frees were collected then, and this push, which
                // comes late, has nothing left to hand over.
                LocalHeap owner = slab.owner;
                if (owner != this) owner.pushPending(slab);
                return;
            }
            slab.nextPending = head;
        } while (!PENDING_HEAD.compareAndSet(pendingCell, HEAD, head, slab));
    }

    /** @return the head of the pending stack: null, a slab, or the closed mark of an adopted cache (for tests) */
    Slab pendingHead() {
        return (Slab) PENDING_HEAD.getVolatile(pendingCell, HEAD);
    }

    /** @return how many times this cache's remote frees were collected, times two (odd while one is under way) */
    public int collectionCount() {
        return (int) COLLECTIONS.getAcquire(this);
    }

    /** Holder only: takes every queued slab (one atomic swap, so no ABA) and folds in its remote frees. */
    public void drainPending() {
        if (PENDING_HEAD.getOpaque(pendingCell, HEAD) == null) return;
        int v = collections;
        COLLECTIONS.setVolatile(this, v + 1); // odd before the stack is taken: see liveBytes()
        try {
            Slab s = (Slab) PENDING_HEAD.getAndSet(pendingCell, HEAD, (Slab) null);
            while (s != null) {
                Slab next = s.nextPending;
                s.nextPending = null; // before collect(): once pending is cleared another thread may queue s again
                if (s.collect() > 0) afterFree(s);
                s = next;
            }
        } finally {
            COLLECTIONS.setRelease(this, v + 2);
        }
    }

    /**
     * Takes over every slab of {@code dead}, a cache whose thread has terminated (so its plain writes are visible
     * to us: termination synchronises with the {@code isAlive()} that detected it). Holder only; the caller
     * serialises adoptions. Empty slabs go back to the page layer, the others join this cache's lists.
     */
    public void adopt(LocalHeap dead) {
        for (Slab s = dead.owned; s != null; s = s.nextOwned) s.owner = this;
        Slab pending = (Slab) PENDING_HEAD.getAndSet(dead.pendingCell, HEAD, CLOSED);
        for (Slab s = pending; s != null; ) {
            Slab next = s.nextPending;
            s.nextPending = null;
            s.clearPending(); // off every stack now; a slab not taken here keeps its flag: its push is in flight
            s = next;
        }
        Slab s = dead.owned;
        dead.owned = null;
        java.util.Arrays.fill(dead.slabsOfClass, 0);
        dead.spareHead = dead.spareTail = null;
        dead.spareBytes = 0;
        source.returnMediumExtra(dead.mediumExtra); // its stacks' slabs are owned, and released below
        dead.mediumExtra = 0;
        for (Slab c : dead.current) if (c != EMPTY) c.isCurrent = false;
        java.util.Arrays.fill(dead.current, EMPTY);
        java.util.Arrays.fill(dead.withCurrent, 0);
        java.util.Arrays.fill(dead.available, null);
        java.util.Arrays.fill(dead.availableTail, null);
        java.util.Arrays.fill(dead.roomy, null);
        java.util.Arrays.fill(dead.roomyTail, null);
        while (s != null) {
            Slab next = s.nextOwned;
            s.next = s.prev = null;
            s.listed = false;
            s.roomy = false;
            s.nextSpare = s.prevSpare = null;
            s.spare = false;
            s.nextOwned = s.prevOwned = null;
            own(s);
            s.collectRemote();
            if (s.used == 0) {
                release(s);
            } else if (s.summary != 0) {
                link(s);
            }
            s = next;
        }
    }

    private void own(Slab s) {
        slabsOfClass[s.sizeClass]++;
        s.prevOwned = null;
        s.nextOwned = owned;
        if (owned != null) owned.prevOwned = s;
        owned = s;
    }

    private void disown(Slab s) {
        slabsOfClass[s.sizeClass]--;
        if (s.prevOwned != null) s.prevOwned.nextOwned = s.nextOwned;
        else owned = s.nextOwned;
        if (s.nextOwned != null) s.nextOwned.prevOwned = s.prevOwned;
        s.nextOwned = s.prevOwned = null;
    }

    private void link(Slab s) {
        append(s, available, availableTail);
    }

    /** Puts {@code s}, which is on no queue, at the tail of its class's roomy queue. */
    private void linkRoomy(Slab s) {
        append(s, roomy, roomyTail);
        s.roomy = true;
    }

    private static void append(Slab s, Slab[] heads, Slab[] tails) {
        int c = s.sizeClass;
        Slab tail = tails[c];
        s.prev = tail;
        s.next = null;
        if (tail != null) tail.next = s;
        else heads[c] = s;
        tails[c] = s;
        s.listed = true;
    }

    /** Takes {@code s} off its class's queue, either one (and off the spares, if it is one). */
    private void unlink(Slab s) {
        if (s.spare) removeSpare(s);
        detach(s);
    }

    /** Takes {@code s} off its class's queue, either one; its place on the spares, if any, is left as it is. */
    private void detach(Slab s) {
        Slab[] heads = s.roomy ? roomy : available, tails = s.roomy ? roomyTail : availableTail;
        if (s.prev != null) s.prev.next = s.next;
        else heads[s.sizeClass] = s.next;
        if (s.next != null) s.next.prev = s.prev;
        else tails[s.sizeClass] = s.prev;
        s.next = s.prev = null;
        s.listed = false;
        s.roomy = false;
    }

    /** @return whether a slab of class {@code c} with room waits on this cache's queues. Holder only. */
    public boolean hasQueued(int c) {
        return available[c] != null || roomy[c] != null;
    }

    /** @return whether this cache owns a slab. Holder only (an adoption into it runs on its holder). */
    boolean holdsSlabs() {
        return owned != null;
    }

    /** @return the number of slabs this cache owns (O(slabs); for statistics and tests) */
    public int ownedSlabs() {
        int n = 0;
        for (Slab s = owned; s != null; s = s.nextOwned) n++;
        return n;
    }

    /**
     * The pages of the next slab this cache takes for class {@code c}: they grow with the slabs the cache owns of the
     * class, from a small first size ({@link SizeClasses#firstSlabPages}, one page for most classes up to 1 KiB) by
     * doubling to the class's standard size ({@link SizeClasses#slabPagesAt}). Most programs use many classes for a
     * few blocks each (at its peak, gcc-cc1 held fewer than 40 blocks in 34 of the 44 small classes it used), and a
     * class's only slab is then mostly free: 16 to 28 KiB a class at the standard sizes, which made the free blocks in
     * part-used slabs 20% of gcc-cc1's peak live bytes. A class that holds many blocks reaches the standard size
     * within three slabs, so a loop that fills slabs goes to the page layer as seldom as before.
     */
    public int nextSlabPages(int c) {
        return SizeClasses.slabPagesAt(c, Math.min(slabsOfClass[c], SizeClasses.RAMP_STEPS));
    }

    private static int poolIndex(int sizeClass, int pages) {
        return sizeClass * (SizeClasses.RAMP_STEPS + 1) + SizeClasses.rampStep(sizeClass, pages);
    }

    /**
     * Creates a slab of class {@code sizeClass} over the {@code pages} pages at {@code base}, owned by this cache,
     * reusing the object of a slab of that size this cache gave back when it has one.
     */
    public Slab newSlab(long base, int sizeClass, int pages) {
        int k = poolIndex(sizeClass, pages);
        Slab s = pool[k];
        if (s == null) return new Slab(base, sizeClass, pages, this);
        pool[k] = s.next;
        pooled[k]--;
        s.reuse(base);
        return s;
    }

    /** Gives an empty slab's pages back and keeps its object for reuse. Holder only. */
    private void release(Slab slab) {
        if (recent == slab) recent = EMPTY;
        disown(slab);
        source.releaseSlab(slab);
        int k = poolIndex(slab.sizeClass, slab.pages);
        if (pooled[k] < (slab.capacity == 1 ? MEDIUM_POOL : POOL) && slab.owner == this) {
            slab.next = pool[k];
            pool[k] = slab;
            pooled[k]++;
        }
    }
}
