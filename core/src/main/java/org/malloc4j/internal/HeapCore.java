package org.malloc4j.internal;

import java.util.concurrent.CopyOnWriteArrayList;
import org.malloc4j.HeapExhaustedException;
import org.malloc4j.HeapSnapshot;
import org.malloc4j.HeapStats;
import org.malloc4j.InvalidFreeException;
import org.malloc4j.PageGathering;
import org.malloc4j.internal.monitor.Monitoring;
import org.malloc4j.internal.os.Memory;
import org.malloc4j.internal.os.Os;
import org.malloc4j.internal.page.PageHeap;
import org.malloc4j.internal.sites.SiteRecord;
import org.malloc4j.internal.sites.SiteRecorder;
import org.malloc4j.internal.small.LocalHeap;
import org.malloc4j.internal.small.SizeClasses;
import org.malloc4j.internal.small.Slab;
import org.malloc4j.internal.small.SlabSource;
import org.malloc4j.internal.small.ThreadCaches;

/**
 * The heap's engine: one reservation of address space, the page layer over it, the slab directory that maps an
 * address to its slab by arithmetic, and the per-thread caches. {@link org.malloc4j.Heap} is its public face.
 *
 * <p>Fast paths: small malloc is {@link LocalHeap#allocate} on the caller's cache; free finds the slab with two
 * array loads and, when the caller owns it, is {@link LocalHeap#freeLocal}. Everything else (medium and large
 * blocks, slab refills, frees from other threads, validation failures) is a slow path here or in the page layer.
 */
public final class HeapCore implements SlabSource, BlockAllocator {
    /** Pages per slab-directory chunk (4 MiB of address space). */
    private static final int CHUNK_SHIFT = 22;
    private static final int PAGES_PER_CHUNK = 1 << (CHUNK_SHIFT - PageHeap.PAGE_SHIFT);

    private static final CopyOnWriteArrayList<HeapCore> OPEN = new CopyOnWriteArrayList<>();
    /**
     * The heap whose realloc the calling virtual thread is making, while it moves a block that stays where it is if the
     * move is refused ({@link LocalHeap#movingInPlaceIfRefused} marks a platform thread's in its exclusive cache). Per
     * thread, so per call: in the one field of a stripe another virtual thread's realloc overwrote the mark, and a
     * refusal that the block then survived was told to JFR. Set and read on the move's slow path only.
     */
    private static final ThreadLocal<HeapCore> MOVING_IN_PLACE_IF_REFUSED = new ThreadLocal<>();

    private final String name;
    /** What its JFR events and its MBean call this heap: its name, numbered while another live heap has it. */
    private final String label;
    private final long base;
    private final long reserved;
    private final Slab[][] directory;
    /**
     * Per directory chunk, for each page of a medium slab but its first: how many pages back that first page lies (1 to
     * 63); else 0, or the offset a medium slab given back left there (see {@link #mapSlab}). A medium slab has one
     * block, whose address is its first page, so the directory maps that page alone and {@link #slabContaining} finds
     * the slab of an address inside its block from here: its 8 to 64 pages each written in the directory cost a
     * reference store with the collector's barrier (a fence where the chunk is old), on every make and give-back of a
     * slab, which a program that holds more medium blocks than the spare budget keeps pays for most of theirs (a loop
     * of 16 blocks of 128 KiB: about 50 ns of 290 a malloc and free).
     */
    private final byte[][] interior;
    private final PageHeap pages;
    private final ThreadCaches caches;
    /** Allocation sites of sampled blocks; null when sites are not tracked. */
    private final SiteRecorder sites;
    /** The spare budget this heap's caches share ({@code Heap.Builder.spareBytes}; see {@code ThreadCaches}). */
    private final long spareBudget;
    private boolean closed;
    /** Allocations of at least this many bytes emit a JFR event. */
    private long largeEventBytes = Long.MAX_VALUE;
    /**
     * Whether an exhaustion emits its JFR event here: not under the CHECKED layer, which may still serve the request
     * from its quarantine and reports a final refusal in the program's figures itself.
     */
    private boolean reportsExhaustion = true;
    /** The sampled heap-wide peak (see {@link PeakSample}). */
    private final PeakSample peakSample = new PeakSample();
    /** What a request about to be refused takes back from the layers over the engine first ({@link #beforeRefusal}). */
    private volatile Runnable reclaimHeld = () -> {};
    /**
     * What a small or medium request about to be refused takes back from the layers over the engine, its cache held in
     * the middle of a slow path ({@link #newSlab}): without waiting for a lock; @return whether it freed a block.
     */
    private volatile java.util.function.BooleanSupplier reclaimHeldNow = () -> false;
    /** The limit the builder set ({@code Long.MAX_VALUE}: none); the page layer's is at most the reservation. */
    private final long limitBytes;
    /** The page layer's clock, and its decay time: how long unused medium extra stays with a cache. */
    private final java.util.function.LongSupplier clock;
    private final long decayNanos;
    /**
     * The medium extra granted to this heap's caches and not given back ({@link #grantMediumExtra}), at most
     * {@link #MEDIUM_EXTRA_SHARES} times the spare budget, and at most a sixteenth of the limit: a request refused at
     * the limit can take back its own cache's spares but not another live thread's, so what those may keep beyond
     * their shares stays small against the limit.
     */
    private final java.util.concurrent.atomic.AtomicLong mediumExtraGranted =
            new java.util.concurrent.atomic.AtomicLong();
    private static final int MEDIUM_EXTRA_SHARES = 4;

    public HeapCore(String name, long reserveBytes, long limitBytes, long decayNanos, long releaseBytes,
            double siteRate, long spareBytes) {
        this(name, reserveBytes, limitBytes, decayNanos, releaseBytes, siteRate, spareBytes, System::nanoTime);
    }

    /** As above, with the monotonic clock (nanoseconds) the page layer measures decay times by; for tests. */
    public HeapCore(String name, long reserveBytes, long limitBytes, long decayNanos, long releaseBytes,
            double siteRate, long spareBytes, java.util.function.LongSupplier clock) {
        this.name = name;
        this.limitBytes = limitBytes;
        this.spareBudget = spareBytes;
        this.clock = clock;
        this.decayNanos = decayNanos;
        this.sites = siteRate > 0 ? new SiteRecorder(siteRate) : null;
        long reserve = (reserveBytes + (1L << CHUNK_SHIFT) - 1) & -(1L << CHUNK_SHIFT);
        long reservedAt = Os.reserve(reserve, 1L << CHUNK_SHIFT);
        if (reservedAt < 0) {
            throw new HeapExhaustedException(reserve, "cannot reserve " + reserve + " bytes of address space for heap "
                    + name + " (mmap: errno " + -reservedAt + ")");
        }
        this.base = reservedAt;
        this.reserved = reserve;
        try {
            this.directory = new Slab[Math.toIntExact(reserve >>> CHUNK_SHIFT)][];
            this.interior = new byte[directory.length][];
            this.pages = new PageHeap(base, Math.toIntExact(reserve >>> PageHeap.PAGE_SHIFT),
                    Math.min(limitBytes, reserve), decayNanos, releaseBytes, clock);
        } catch (RuntimeException | Error e) {
            Os.unmap(base, reserve); // no heap: its address space goes back
            if (e instanceof HeapExhaustedException refused) { // the page map's reservation: named as the range's is
                throw new HeapExhaustedException(refused.requested(), refused.getMessage() + " of heap " + name
                        + " (" + reserve + " bytes)");
            }
            throw e;
        }
        this.caches = new ThreadCaches(this);
        this.label = Monitoring.label(name); // last: a heap that could not be made has no label to give back
        this.pages.onPurge = bytes -> Monitoring.purge(label, bytes);
        OPEN.add(this);
        try {
            Purger.ensureStarted(); // decay or not: it adopts the caches of threads that ended (reapDeadCaches)
        } catch (RuntimeException | Error e) {
            // No thread (a process at its address space or thread limit): no heap, and close() gives back what the
            // heap took, its range, its page map, its label and its place among the open heaps
            close();
            throw e;
        }
    }

    public String name() {
        return name;
    }

    /** @return what the heap's JFR events and MBean call it: {@link #name}, numbered if another live heap has it */
    public String label() {
        return label;
    }

    /** @return the heaps open now (for the purger thread) */
    static java.util.List<HeapCore> open() {
        return OPEN;
    }

    /**
     * Purges this heap's free pages whose decay time has passed; for the purger thread.
     *
     * @return nanoseconds until the next queued run expires, or -1 when none is queued (or the heap is closed)
     */
    long purgeExpired() {
        pages.lock().lock();
        try {
            return closed ? -1 : pages.purgeExpired();
        } finally {
            pages.lock().unlock();
        }
    }

    /**
     * Adopts the caches of dead threads, whose empty slabs then go back to the page layer, and collects the remote
     * frees waiting in the virtual threads' stripes; for the purger thread. A heap closed meanwhile refuses the slabs'
     * release (IllegalStateException), which is then not an error.
     */
    void reapDeadCaches() {
        if (closed) return;
        try {
            caches.reapDeadIntoStripe();
        } catch (IllegalStateException e) {
            if (!closed) throw e;
        }
    }

    /** Sets when free pages are moved into new runs ({@code Heap.Builder.pageGathering}). */
    public void pageGathering(PageGathering mode) {
        pages.lock().lock();
        try {
            pages.pageGathering(mode);
        } finally {
            pages.lock().unlock();
        }
    }

    /** For the CHECKED layer, which reports exhaustion itself (see {@link #reportsExhaustion}). */
    public void reportExhaustion(boolean report) {
        this.reportsExhaustion = report;
    }

    /** @return the most bytes the heap may commit */
    public long limitBytes() {
        return pages.limitBytes();
    }

    /**
     * @return the heap's bound as a refusal names it: the limit the builder set, or, with none set (or one above the
     *     reservation), the reservation, which is then what the heap cannot grow past
     */
    public String boundDescription() {
        long limit = pages.limitBytes();
        if (limitBytes == Long.MAX_VALUE) return "no limit set, reservation " + limit + " bytes";
        if (limitBytes > limit) return "limit " + limitBytes + " bytes, reservation " + limit + " bytes";
        return "limit " + limit + " bytes";
    }

    /** Makes allocations of at least {@code bytes} emit a JFR {@code LargeAllocation} event. */
    public void largeEventBytes(long bytes) {
        this.largeEventBytes = bytes;
    }

    // ---------------------------------------------------------------- malloc

    public long malloc(long size) {
        if (size <= SizeClasses.MAX_CACHED && size >= 0) {
            checkOpen();
            LocalHeap cache = caches.get();
            if (cache.thread != null) return mallocOwn(cache, size);
            return allocateShared(cache, SizeClasses.classOf(size), size);
        }
        return mallocLarge(size, PageHeap.PAGE, false);
    }

    /**
     * The small malloc of the thread that owns the exclusive cache {@code cache}, with no other check: the caller
     * found the cache as its thread's and the heap open, and {@code size} is at most {@link SizeClasses#MAX_CACHED}
     * and not negative. {@code Heap}'s own fast path calls it for the heap's first thread.
     */
    public long mallocOwn(LocalHeap cache, long size) {
        long p = cache.allocate(SizeClasses.classOf(size), size);
        if ((cache.sampleCountdown -= size) < 0) sample(cache, p, size);
        return p;
    }

    /**
     * Tells {@code listener} the cache of the heap's first thread whenever one is chosen (on that thread), and null
     * when it is retired: see {@link ThreadCaches#onPrimary}.
     */
    public void onPrimaryCache(java.util.function.Consumer<LocalHeap> listener) {
        caches.onPrimary(listener);
    }

    /** @return the table where other platform threads find their caches by id: see {@link ThreadCaches#doors} */
    public LocalHeap[] threadDoors() {
        return caches.doors();
    }

    /** @return the thread of each cache in {@link #threadDoors}, slot for slot: see {@link ThreadCaches#doorThreads} */
    public Thread[] threadDoorOwners() {
        return caches.doorThreads();
    }

    /** Empties {@link #threadDoors}: called by a closing heap before it closes this core. */
    public void closeThreadDoors() {
        caches.closeDoors();
    }

    /** A small block for a realloc that grows a block to {@code size}, of class {@link SizeClasses#grownClassOf}. */
    private long mallocGrown(long size) {
        int c = SizeClasses.grownClassOf(size);
        return allocateIn(caches.get(), c, size);
    }

    /** Records the site of the block just allocated at {@code address}, and marks its slab so its free is seen. */
    private void sample(LocalHeap cache, long address, long size) {
        if (restartCountdown(cache)) recordSample(address, size);
    }

    /** Draws the cache's next countdown (its thread's, or under a stripe's lock); @return whether sites are tracked */
    private boolean restartCountdown(LocalHeap cache) {
        cache.sampleCountdown = sites == null ? Long.MAX_VALUE : sites.nextCountdown();
        return sites != null;
    }

    private void recordSample(long address, long size) {
        Slab slab = slabOf(address);
        if (slab != null) slab.addSampled(1);
        sites.record(address, size);
    }

    /**
     * A block resized in place keeps the sampling decision of its new size, not of its size at malloc: the estimate
     * weighs a sample by one over the chance of sampling a block of its size, so that chance must be the one of the
     * size the block has now (a block allocated empty, never sampled, was invisible whatever it grew to; one grown
     * from 64 KiB to 16 MiB was recorded one time in nine, and then stood for 140 MB). Sampled with chance
     * {@code before} at its old size, a block grown is sampled now with chance {@code (after - before) / (1 - before)}
     * when it was not, and one shrunk stays sampled with chance {@code after / before}: its chance is then exactly
     * {@code after}, and a block grown by a thousand small steps takes about one stack capture in all, not one a
     * step (as charging the byte countdown with every new size, jemalloc's way, would). A new record takes the
     * realloc's stack as its site.
     */
    private void resampleInPlace(Slab slab, long address, long oldSize, long newSize) {
        SiteRecord r = slab == null || slab.sampled != 0 ? sites.get(address) : null;
        double before = sites.probability(oldSize), after = sites.probability(newSize);
        if (before == after) {
            if (r != null) r.resampled(newSize);
            return;
        }
        double u = java.util.concurrent.ThreadLocalRandom.current().nextDouble();
        if (r != null) {
            if (after < before && u * before >= after) forgetSampled(slab, address);
            else r.resampled(newSize);
        } else if (after > before && u * (1 - before) < after - before) {
            if (slab != null) slab.addSampled(1);
            sites.record(address, newSize);
        }
    }

    /** Tells the site recorder that the sampled block at {@code address} is being freed. */
    private void forgetSampled(Slab slab, long address) {
        SiteRecord r = sites.forget(address);
        if (r != null && slab != null) slab.addSampled(-1);
    }

    /**
     * @return the exclusive cache of the calling platform thread when it is found without a ThreadLocal lookup (the
     *         heap's first thread's, or one in the caches' table by thread id), else null (a virtual thread, a thread
     *         with no cache yet, one whose slot another live thread holds). A layer over the engine that makes several
     *         engine calls an operation (the CHECKED mode) finds the cache once and passes it to {@link #mallocOwn},
     *         {@link #freeOwn}, {@link #isLiveBlockOwn} and {@link LocalHeap#countUnseen}; the caller checks the heap
     *         open first.
     */
    public LocalHeap ownCache() {
        return caches.ownCacheOf(Thread.currentThread());
    }

    /**
     * @return the calling thread's cache, as {@link #malloc} finds it: its exclusive cache (registered if it had
     *         none), or its virtual thread's stripe. For the CHECKED layer, which counts its placements in it
     *         ({@link LocalHeap#placingStarts}); the caller checks the heap open first.
     */
    public LocalHeap cache() {
        return caches.get();
    }

    /**
     * @return whether a CHECKED placement is under way in the cache that owns the slab holding {@code address}
     *         ({@link LocalHeap#placingNow}); false for an address in no slab. Never throws, as
     *         {@link #liveRequestedSize}.
     */
    public boolean placingInSlabOf(long address) {
        if (!contains(address) || closed) return false;
        Slab slab = slabOf(address);
        LocalHeap owner = slab == null ? null : slab.owner; // read once: an adoption may change it (its thread ended)
        return owner != null && owner.placingNow();
    }

    /** @return the site recorder, or null when this heap does not track allocation sites */
    public SiteRecorder sites() {
        return sites;
    }

    /** Small allocation of class {@code sizeClass} from {@code cache}, exclusive or shared, with its site sampled. */
    private long allocateIn(LocalHeap cache, int sizeClass, long size) {
        if (cache.thread == null) return allocateShared(cache, sizeClass, size);
        long p = cache.allocate(sizeClass, size);
        if ((cache.sampleCountdown -= size) < 0) sample(cache, p, size);
        return p;
    }

    /**
     * Small allocation from a stripe shared by virtual threads: the same fast path, under the stripe's lock, and the
     * site sampling's countdown with it (outside, threads of one stripe lost each other's updates, and sampled less
     * than the estimates' weights assume).
     */
    private long allocateShared(LocalHeap stripe, int sizeClass, long size) {
        stripe.lock().lock();
        try {
            long p = stripe.allocate(sizeClass, size);
            if ((stripe.sampleCountdown -= size) < 0) sample(stripe, p, size);
            return p;
        } finally {
            stripe.lock().unlock();
        }
    }

    /** @return the caller's cache, locked when it is a shared stripe; pair with {@link #release} */
    private LocalHeap hold() {
        LocalHeap cache = caches.get();
        if (cache.thread == null) cache.lock().lock();
        if (cache.neverCounted()) caches.beforeFirstCount(); // its first count may end the heap's exact peak
        return cache;
    }

    private static void release(LocalHeap cache) {
        if (cache.thread == null) cache.lock().unlock();
    }

    @Override
    public long arenaOffset(long alignment) {
        return Math.max(16, alignment);
    }

    @Override
    public long arenaBlock(long alignment, long size) {
        long offset = arenaOffset(alignment);
        if (size > Long.MAX_VALUE - offset - 1) {
            lockOpen();
            try {
                throw exhausted(size); // with the heap's figures, as every refusal (a review, 2026-12-07)
            } finally {
                pages.lock().unlock();
            }
        }
        long request = Math.max(size, 1) + offset; // at least one byte past the offset: never the next block
        try {
            // Told to JFR as the segment the program asked for (as CHECKED tells it): a page run's address past the
            // offset and its size, and a refusal of that size, not of the block with the offset
            return heldBlock(offset, request, size, offset, HELD_ARENA);
        } catch (HeapExhaustedException e) {
            // In the program's terms, as CHECKED's refusal (and the one above) gives them: the segment it asked for,
            // not the block of the segment and the offset that keeps its address off the block's start
            throw BlockAllocator.askedFor(e, size, request, request + " with the arena's offset");
        }
    }

    @Override
    public long arenaChunk(long size, long asked) {
        return heldBlock(size, size, asked, 0, HELD_ARENA);
    }

    @Override
    public void freeArenaBlock(long block) {
        freeHeld(block, HELD_ARENA);
    }

    @Override
    public long heldBytes(long block) {
        return liveRequestedSize(block);
    }

    @Override
    public long stackBlock(long size) {
        return heldBlock(16, size, size, 0, HELD_STACK);
    }

    @Override
    public void freeStackBlock(long block) {
        freeHeld(block, HELD_STACK);
    }

    /**
     * What holds a block of the heap's own, one that a layer over the engine hands out in pieces (see {@link #hold}):
     * an arena (its chunks, its segments' blocks) or a thread stack.
     */
    static final int HELD_ARENA = 1, HELD_STACK = 2;

    /**
     * A block for a layer of the heap, {@code kind}: a block of {@code request} bytes aligned to {@code alignment},
     * which the program's free, realloc and usableSize refuse until the layer frees it ({@link #freeHeld}). A refusal
     * tells JFR the {@code asked} bytes of the program's request, and a page run's large-allocation event the block
     * past its first {@code front} bytes.
     */
    private long heldBlock(long alignment, long request, long asked, long front, int kind) {
        int c = alignment <= 16 ? (request <= SizeClasses.MAX_CACHED ? SizeClasses.classOf(request) : -1)
                : alignment <= PageHeap.PAGE ? SizeClasses.alignedClassOf(request, alignment) : -1;
        if (c < 0) {
            if (alignment > reserved / 2) return alignedAlloc(alignment, request); // refused, as its own would be
            long block = mallocLargeTellingFresh(request, Math.max(alignment, PageHeap.PAGE), 0, front, asked)
                    & ~PageHeap.FRESH;
            lockOpen();
            try {
                pages.hold(block, kind);
            } finally {
                pages.lock().unlock();
            }
            return block;
        }
        checkOpen();
        LocalHeap cache = hold(); // a stripe stays locked for the allocation, so that its asked bytes are this one's
        long block;
        try {
            cache.asked = asked;
            block = allocateIn(cache, c, request);
        } finally {
            cache.asked = -1;
            release(cache);
        }
        Slab slab = slabOf(block);
        slab.hold(slab.indexOf(block), kind);
        return block;
    }

    /**
     * Frees a block of {@link #heldBlock} for its holder, {@code kind}: its hold ends, then it is freed as any block.
     * @throws InvalidFreeException if no block held as {@code kind} starts at {@code block}, changing nothing
     */
    private void freeHeld(long block, int kind) {
        checkOpen();
        Slab slab = slabContaining(block);
        if (slab == null) {
            freePageRun(block, null, kind);
            return;
        }
        int idx = slab.indexOf(block);
        if (idx < 0 || !slab.isAllocatedLocal(idx) || !slab.unhold(idx, kind)) {
            throw new InvalidFreeException(block, Describe.notHeld(block, kind));
        }
        freeSmallSlow(slab, idx, block);
    }

    public long calloc(long count, long size) {
        if (count < 0) throw badArgument("calloc count must be non-negative: " + count);
        if (size < 0) throw badArgument("calloc size must be non-negative: " + size);
        if (Math.multiplyHigh(count, size) != 0 || count * size < 0) {
            throw badArgument("calloc count * size overflows: " + count + " * " + size);
        }
        long bytes = count * size;
        if (bytes <= SizeClasses.MAX_CACHED) {
            long p = malloc(bytes);
            Memory.zero(p, bytes);
            return p;
        }
        return mallocLarge(bytes, PageHeap.PAGE, true);
    }

    public long alignedAlloc(long alignment, long size) {
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0) {
            throw badArgument("alignment must be a power of two: " + alignment);
        }
        if (size < 0) throw badArgument("size must be non-negative: " + size);
        if (alignment <= 16) return malloc(size);
        if (alignment <= PageHeap.PAGE) {
            int c = SizeClasses.alignedClassOf(size, alignment);
            if (c >= 0) {
                checkOpen();
                return allocateIn(caches.get(), c, size);
            }
        }
        checkAlignment(alignment);
        return mallocLarge(size, Math.max(alignment, PageHeap.PAGE), 0, false);
    }

    /** Refuses an alignment (a power of two) above half the reservation, which no block of this heap can have. */
    public void checkAlignment(long alignment) {
        if (alignment > reserved / 2) {
            throw badArgument("alignment " + alignment + " exceeds what a heap reserving "
                    + reserved + " bytes can align to");
        }
    }

    /**
     * Allocates a page run of at least {@code size} bytes whose address plus {@code offset} is a multiple of
     * {@code alignment}: for the checked layer, which puts one page of red zone before a block aligned beyond a
     * page, instead of a whole alignment's worth.
     *
     * @param alignment a power of two above the page size
     * @param offset a multiple of the page size below {@code alignment}
     */
    public long alignedAllocAtOffset(long alignment, long offset, long size) {
        if (alignment <= PageHeap.PAGE || (alignment & (alignment - 1)) != 0 || offset <= 0 || offset >= alignment
                || (offset & (PageHeap.PAGE - 1)) != 0) {
            throw badArgument("alignment " + alignment + " and offset " + offset
                    + ": need a power of two above a page and a whole number of pages below it");
        }
        if (size < 0) throw badArgument("size must be non-negative: " + size);
        if (alignment > reserved / 2) {
            throw badArgument("alignment " + alignment + " exceeds what a heap reserving "
                    + reserved + " bytes can align to");
        }
        return mallocLarge(size, alignment, offset, false);
    }

    private long mallocLarge(long size, long alignment, boolean zero) {
        return mallocLarge(size, alignment, 0, zero);
    }

    private long mallocLarge(long size, long alignment, long offset, boolean zero) {
        long result = mallocLargeTellingFresh(size, alignment, offset);
        long address = result & ~PageHeap.FRESH;
        if (zero && (result & PageHeap.FRESH) == 0) Memory.zero(address, size);
        return address;
    }

    /** {@link #mallocLarge}, not zeroed: @return its address, with {@link PageHeap#FRESH} set when every page was fresh */
    private long mallocLargeTellingFresh(long size, long alignment, long offset) {
        return mallocLargeTellingFresh(size, alignment, offset, 0, size);
    }

    /**
     * {@link #mallocLargeTellingFresh(long, long, long)} for a block of a layer over the engine: its large-allocation
     * event tells the block past its first {@code front} bytes, which the program does not see (an arena's offset
     * before its segment), and a refusal the {@code asked} bytes of the program's request.
     */
    private long mallocLargeTellingFresh(long size, long alignment, long offset, long front, long asked) {
        if (size < 0) throw badArgument("size must be non-negative: " + size);
        checkOpen();
        long npages = size > reserved ? Long.MAX_VALUE : (Math.max(size, 1) + PageHeap.PAGE - 1) >>> PageHeap.PAGE_SHIFT;
        dropMediumExtraBeforeGrowth(npages);
        long result = takeBlockPages(npages, alignment, offset, size, asked, false);
        if (result == 0) result = takeBlockPages(npages, alignment, offset, size, asked, true);
        return countLargeMalloc(result & ~PageHeap.FRESH, size, front) | (result & PageHeap.FRESH);
    }

    /**
     * A page-run block of {@code npages} is about to take the heap's committed bytes past their peak: the calling
     * platform thread's cache gives its medium extra back first, as it does before a new slab's growth
     * ({@link #releaseSparesBeforeGrowth}), so that the extra never adds to a peak (a review: with a decay time of 0, 16
     * blocks of 128 KiB cycled, then 8 MiB allocated, peaked at 10 MiB where the heap before the extra peaked at 8.5).
     * Racy reads decide, and a cache is taken only when it holds extra. Only a cache found without a ThreadLocal
     * lookup (the heap's first thread's, or one in the registry's table by thread id: most platform threads'); a
     * virtual thread's stripe is not its own. Their extra goes at their own growth or scavenge.
     */
    private void dropMediumExtraBeforeGrowth(long npages) {
        LocalHeap cache = caches.ownCacheOf(Thread.currentThread()); // no ThreadLocal lookup, nor entry made
        if (cache == null || !cache.holdsMediumExtra()) return;
        if (!pages.wouldPassPeak(npages)) return;
        cache.dropMediumExtra(); // a platform thread's own cache: its holder is the caller
    }

    /**
     * For the CHECKED layer's calloc, which writes its header over the old one before it zeroes (see
     * {@code CheckedHeap.place}): {@link #malloc}, with {@link PageHeap#FRESH} set in the result when the block is a
     * page run whose every page is fresh from the OS, so reads as zero and need not be written.
     */
    public long mallocTellingFresh(long size) {
        if (size <= SizeClasses.MAX_CACHED) return malloc(size); // a thread cache's block: never marked fresh
        return mallocLargeTellingFresh(size, PageHeap.PAGE, 0);
    }

    /**
     * The pages of a page-run block, or 0 when the page layer refuses them. The last try first gives back the calling
     * thread's spares (empty slabs its cache keeps, which count as committed: under a limit, a review saw a 3.9 MiB
     * request refused with nothing live, the spares of 100 KB blocks holding the room) and throws when refused again.
     * Its empty current slabs, and the slabs other threads' frees emptied (waiting on its pending stack), hold room the
     * same way: they go back too, as {@code trim()} gives them (a review saw 960 KiB refused under a 1 MiB limit with
     * nothing live, an empty current slab of 32 KiB blocks holding 128 KiB). Of the live threads, only the caller's own
     * cache: another's is its holder's alone; the caches of threads that ended are adopted, and the stripes no thread
     * holds and the stacks' idle blocks given back ({@link #reclaimBeforeRefusal}).
     */
    private long takeBlockPages(long npages, long alignment, long offset, long size, long asked, boolean lastTry) {
        if (lastTry && npages <= Integer.MAX_VALUE) reclaimBeforeRefusal();
        lockOpen();
        try {
            long result = npages > Integer.MAX_VALUE ? 0 : pages.allocateBlock(npages, alignment, offset, size);
            if (result == 0 && lastTry) throw exhausted(size, asked);
            return result;
        } finally {
            pages.lock().unlock();
        }
    }

    /**
     * Before a request that needs no lock held here is refused ({@link #takeBlockPages}' last try, a realloc that only
     * the limit keeps from growing in place): takes back what the program no longer holds, and the caller tries once
     * more. The blocks the layers over the engine keep for threads that ended ({@link #beforeRefusal}: the stacks of
     * ended threads, the stack pool's idle blocks) first, as their frees may empty slabs given back next; then the
     * caller's own empty slabs and those of ended threads' caches ({@link #releaseOwnSpares}); then the remote frees
     * waiting in the stripes shared by virtual threads, and their empty slabs. Under a 1 MiB limit a request of
     * 900,000 bytes was refused with nothing live ("committed 303104, live 0 bytes"), the stripes' slabs holding the
     * room, and one of 600,000 with ten ended threads' stack blocks the only live memory
     * (RefusalTakesBackStripesAndStacksTest). Takes the layers' locks, a cache's, the registry's and the page lock,
     * each in its turn: the caller holds none.
     */
    private void reclaimBeforeRefusal() {
        reclaimHeld.run();
        releaseOwnSpares();
        caches.drainStripes();
    }

    /**
     * Sets what a request about to be refused first takes back from the layers over the engine (the heap's stacks):
     * it runs on the refused thread, which holds no lock of this core's, and may free blocks. Set once, by the heap.
     */
    public void beforeRefusal(Runnable reclaim) {
        this.reclaimHeld = reclaim;
    }

    /**
     * Sets what a small or medium request about to be refused takes back from the layers over the engine: it runs on
     * the refused thread, which holds its own cache (a stripe's lock) in the middle of its slow path ({@link #newSlab}),
     * and must take no lock that a thread may hold while it waits for a stripe; it may free blocks, and returns whether
     * it did. Not set under the CHECKED layer, whose frees wait for its quarantine's locks: that layer takes the blocks
     * back itself before its retry, holding nothing ({@link #reclaimHeldBeforeRetry}). Set once, by the heap.
     */
    public void beforeSmallRefusal(java.util.function.BooleanSupplier reclaim) {
        this.reclaimHeldNow = reclaim;
    }

    /**
     * For the CHECKED layer, whose engine request was refused and which holds no lock of the heap's: takes back what
     * the layers over the engine keep for threads that ended ({@link #beforeRefusal}), before the layer tries again.
     */
    public void reclaimHeldBeforeRetry() {
        reclaimHeld.run();
    }

    /**
     * Gives every empty slab of the calling thread's cache back to the page layer, its spares, its empty current slabs
     * and those its pending remote frees empty, after adopting the caches of threads that ended (takes the cache, the
     * registry's lock, then the page lock). An ended thread's cache kept its empty slabs committed until a slow path,
     * trim() or the purger adopted it, and a request was refused meanwhile with nothing live: "cannot allocate 900000
     * bytes: limit 1048576 bytes, committed 286720, live 0 bytes" (RefusalAdoptsEndedThreadsCachesTest).
     */
    private void releaseOwnSpares() {
        LocalHeap cache = hold();
        try {
            caches.reapAll(cache);
            cache.drainPending();
            cache.releaseEmpty();
        } finally {
            release(cache);
        }
    }

    /** Counts the new page-run block at {@code address}, samples its site, tells JFR; returns the address. */
    private long countLargeMalloc(long address, long size) {
        return countLargeMalloc(address, size, 0);
    }

    /** {@link #countLargeMalloc(long, long)}, JFR told of the block past its first {@code front} bytes. */
    private long countLargeMalloc(long address, long size, long front) {
        LocalHeap cache = hold();
        boolean sampled;
        try {
            cache.countMalloc(size);
            sampled = (cache.sampleCountdown -= size) < 0 && restartCountdown(cache);
        } finally {
            release(cache);
        }
        if (sampled) recordSample(address, size);
        if (size - front >= largeEventBytes) Monitoring.largeAllocation(label, address + front, size - front);
        samplePeakAfterCount();
        return address;
    }

    /**
     * {@link #samplePeak}, after a page-run block was counted (its count is made once the page lock is given back),
     * for a heap used by several threads, whose peak is sampled: a sample taken before the count missed the block (a
     * review saw a 64 MiB block another thread allocated and freed left out of the peak, 2026-12-07). Without the
     * page lock, as at the slow paths (a racy sample of a maximum), and not for a heap one thread uses, whose peak is
     * its cache's: taking the lock again cost a 300 KB malloc/free pair 17%, a growth in place 24% (a second review).
     */
    private void samplePeakAfterCount() {
        if (caches.severalUsers()) samplePeak();
    }

    /** @return the caches looked at to tell whether one thread alone uses the heap (for tests) */
    long cachesLooked() {
        return caches.usersLooked();
    }

    /** @return the virtual threads' stripes' collections of remote frees so far: see {@link ThreadCaches#stripeCollections} */
    public long stripeCollections() {
        return caches.stripeCollections();
    }

    // ---------------------------------------------------------------- free

    public void free(long address) {
        checkOpen(); // first: free(0) does nothing, but on a closed heap it throws as every call does
        // The recent-slab guess is tried by a platform thread whose cache is found without a ThreadLocal lookup
        // (nearly all): a ThreadLocal lookup on every free would cost more than the guess saves.
        LocalHeap mine = caches.ownCacheOf(Thread.currentThread());
        if (mine != null) {
            freeOwn(mine, address);
            return;
        }
        if (address == 0) return;
        Slab slab = slabOf(address);
        if (slab == null) {
            freeLarge(address);
            return;
        }
        freeSmallSlow(slab, slab.indexOf(address), address);
    }

    /**
     * Frees {@code address} (or nothing, for 0) for the thread that owns the exclusive cache {@code mine}, which the
     * caller found as its own with the heap open: the block is looked for in the cache's latest slab first, then in
     * the heap's directory. {@code Heap}'s own fast path calls it for the heap's first thread. One call of
     * {@link LocalHeap#freeLocal} for both places, so that C2 inlines one copy of it (a second one, for the guess
     * alone, was left as a call once a loop's slow paths had run).
     */
    public void freeOwn(LocalHeap mine, long address) {
        int idx = mine.recentIndex(address);
        Slab slab;
        if (idx != LocalHeap.NOT_RECENT) {
            slab = mine.recent(); // the latest slab of a live thread's cache: no other cache has adopted it
        } else {
            if (address == 0) return;
            slab = slabOf(address);
            if (slab == null) {
                freeLarge(address);
                return;
            }
            idx = slab.indexOf(address);
        }
        if (idx >= 0 && slab.owner == mine && slab.sampled == 0 && mine.freeLocal(slab, idx)) return;
        freeSmallSlow(slab, idx, address);
    }

    /** @return the refusal of {@code address}, outside this heap's range: another heap's (named), or no heap's */
    public InvalidFreeException notFromThisHeap(long address) {
        return new InvalidFreeException(address, Describe.foreign(address, this, OPEN));
    }

    /**
     * @return the slab whose directory entry maps the page of {@code address}: for a small slab any page of it, for a
     *         medium slab its first page alone (see {@link #interior}), else null. Enough where the address is a
     *         block's start, as a valid free's is; {@link #slabContaining} also finds a medium block from inside it
     */
    private Slab slabOf(long address) {
        long off = address - base;
        if (Long.compareUnsigned(off, reserved) >= 0) {
            checkOpen();
            throw new InvalidFreeException(address, Describe.foreign(address, this, OPEN));
        }
        Slab[] chunk = directory[(int) (off >>> CHUNK_SHIFT)];
        if (chunk == null) return null;
        return chunk[(int) (off >>> PageHeap.PAGE_SHIFT) & (PAGES_PER_CHUNK - 1)];
    }

    /**
     * @return the slab holding {@code address}, at a block's start or inside a block, or null when it is not in a slab
     *         of this heap; throws as {@link #slabOf} for an address outside the heap's range. A slab being made or
     *         given back by another thread meanwhile is seen or not, as {@link #slabOf}'s racy read sees it
     */
    private Slab slabContaining(long address) {
        Slab slab = slabOf(address);
        if (slab != null) return slab;
        long page = (address - base) >>> PageHeap.PAGE_SHIFT;
        byte[] backs = interior[(int) (page >>> (CHUNK_SHIFT - PageHeap.PAGE_SHIFT))];
        int back = backs == null ? 0 : backs[(int) page & (PAGES_PER_CHUNK - 1)];
        if (back == 0) return null;
        Slab medium = slabOf(base + ((page - back) << PageHeap.PAGE_SHIFT));
        // Read racily: only a medium slab whose pages hold the address answers, not one made there since
        long rel = address - (medium == null ? 0 : medium.base);
        return medium != null && medium.capacity == 1 && rel >= 0 && rel < ((long) medium.pages << PageHeap.PAGE_SHIFT)
                ? medium : null;
    }

    /** Frees a small block when the fast path could not: another owner, a shared stripe, or an invalid address. */
    private void freeSmallSlow(Slab slab, int idx, long address) {
        if (idx < 0) throw new InvalidFreeException(address, Describe.insideSlab(address, slab));
        if (slab.sampled != 0) { // sampled blocks, or blocks a layer holds: the fast path sent them all here
            int held = slab.heldKind(idx);
            if (held != 0) throw new InvalidFreeException(address, Describe.held(address, held));
            if (sites != null && slab.isAllocatedLocal(idx)) forgetSampled(slab, address);
        }
        LocalHeap me = hold();
        try {
            boolean freed = slab.owner == me ? me.freeLocal(slab, idx) : me.freeRemote(slab, idx);
            if (!freed) throw new InvalidFreeException(address, Describe.alreadyFreed(address, slab.blockSize));
        } finally {
            release(me);
        }
    }

    /**
     * For the leak detector: frees the block at {@code address} only while {@code record} is its live record, in one
     * step with that look (a program that freed the block meanwhile, and was handed its address again, keeps its new
     * block). @return whether the block was freed
     */
    public boolean freeIfRecorded(long address, SiteRecord record) {
        checkOpen();
        Slab slab = slabOf(address);
        if (slab == null) return freePageRun(address, record, 0);
        int idx = slab.indexOf(address);
        if (idx < 0) return false;
        LocalHeap me = hold(); // made before the records' lock is taken: a first call registers under another lock
        try {
            if (slab.owner != me) {
                // A remote free takes no lock. Run under the record's stripe lock, it cannot pass a program's free of
                // the block, whose forget waits for that lock (the slab's sampled count keeps it on that path)
                boolean freed = sites.forgetWhile(record, () -> me.freeRemote(slab, idx));
                if (freed) slab.addSampled(-1);
                return freed;
            }
        } finally {
            release(me);
        }
        // The caller's own slab (a cache it adopted): a local free may give an empty slab back under the page lock,
        // which must never be taken under the records' lock (the page layer takes them the other way round), so
        // look, then free, as a program's free does
        if (sites.get(address) != record) return false;
        freeSmallSlow(slab, idx, address);
        return true;
    }

    private void freeLarge(long address) {
        freePageRun(address, null, 0);
    }

    /**
     * Frees the page-run block at {@code address}. With {@code expected} null the address is validated (an invalid one
     * throws); else the block is freed only while {@code expected} is its site record, checked under the page lock in
     * one step with the free (the leak reclaim). With {@code held} not 0, the block is one that kind of layer holds
     * ({@link #heldBlock}), freed by it: validated as such, and its hold ended. @return whether it was freed
     */
    private boolean freePageRun(long address, SiteRecord expected, int held) {
        LocalHeap cache = hold(); // before the page lock, the caches' order (a slab refill takes them so)
        try {
            lockOpen();
            try {
                long requested;
                if (held != 0) {
                    if (!pages.isBlockStart(address) || pages.heldKind(address) != held) {
                        throw new InvalidFreeException(address, Describe.notHeld(address, held));
                    }
                    pages.hold(address, 0);
                    requested = pages.blockRequested(address);
                } else if (expected == null) {
                    requested = validateBlock(address);
                } else {
                    if (!pages.isBlockStart(address) || sites.get(address) != expected) return false;
                    requested = pages.blockRequested(address);
                }
                if (sites != null) forgetSampled(null, address);
                // Counted before its pages go back, under the lock: counted after it, the next thread to take them
                // counted its own block with this one still in, and a peak sampled then held both
                cache.countFree(requested);
                pages.free(pages.pageOf(address));
            } finally {
                pages.lock().unlock();
            }
        } finally {
            release(cache);
        }
        return true;
    }

    /**
     * Checks that {@code address} starts a used page run that no layer of the heap holds (see {@link #heldBlock});
     * returns its requested size. Caller holds the lock.
     */
    private long validateBlock(long address) {
        if (!pages.isBlockStart(address)) {
            // Inside a medium block: its free found no slab at its page (see slabOf)
            Slab slab = slabContaining(address);
            if (slab != null) throw new InvalidFreeException(address, Describe.insideSlab(address, slab));
            throw new InvalidFreeException(address, Describe.notABlock(address, pages));
        }
        int held = pages.heldKind(address);
        if (held != 0) throw new InvalidFreeException(address, Describe.held(address, held));
        return pages.blockRequested(address);
    }

    // ---------------------------------------------------------------- realloc and sizes

    public long realloc(long address, long newSize) {
        return realloc(address, newSize, false, false);
    }

    /**
     * {@link #realloc}, but a size of 0 keeps a live block of 0 bytes instead of freeing it: for
     * {@code Heap.reallocate}, whose segment of 0 bytes stays a live block. A shrink, it stays in place when its move is
     * refused (the heap at its limit), as any shrink does: it moved to a new {@code malloc(0)} block, which a heap at its
     * limit refused (ReallocateToZeroAtTheLimitTest).
     */
    public long reallocKeepingEmpty(long address, long newSize) {
        return realloc(address, newSize, true, false);
    }

    /**
     * For {@code Heap.reallocate} to an alignment above 16 bytes (a power of two), a size of 0 keeping a live block as
     * {@link #reallocKeepingEmpty} does: a block whose address has the alignment resizes in place where a realloc's
     * block would stay, and otherwise moves to a new block with the alignment; a shrink whose move is refused stays,
     * resized in place, as a realloc's does. It always moved, so that a heap at its limit refused a shrink, or a call
     * with the same size, of a block already aligned (AlignedReallocateInPlaceTest).
     */
    public long reallocAligned(long address, long newSize, long alignment) {
        if (newSize < 0) throw badArgument("realloc size must be non-negative: " + newSize);
        boolean aligned = (address & (alignment - 1)) == 0;
        // Validates the block before anything is allocated, so that a bad one changes nothing
        if (aligned && realloc(address, newSize, true, true) != 0) return address;
        long oldUsable = usableSize(address), oldRequested = requestedSize(address);
        boolean mayStay = aligned && newSize <= oldUsable && canShrinkInPlace(address, newSize);
        setAside(oldRequested, mayStay); // the new block replaces the old one: see realloc
        long moved = 0;
        try { // refused, or freed: the bytes back either way
            moved = alignedAlloc(alignment, newSize);
            Memory.copy(address, moved, Math.min(oldUsable, newSize));
            free(address);
        } catch (HeapExhaustedException refused) {
            if (moved != 0 || !mayStay) throw refused;
        } finally {
            putBack(oldRequested, mayStay);
        }
        if (moved != 0) return moved;
        shrinkInPlace(address, newSize);
        return address;
    }

    /**
     * @param inPlaceOnly resize only where the block stays (its slab's class fits the new size, or a page run resizes
     *        in place), and return 0, changing nothing, where it would move
     */
    private long realloc(long address, long newSize, boolean keepEmpty, boolean inPlaceOnly) {
        if (newSize < 0) throw badArgument("realloc size must be non-negative: " + newSize);
        if (address == 0) return malloc(newSize);
        checkOpen();
        Slab slab = slabContaining(address);
        long oldRequested, oldUsable;
        int idx = -1;
        if (slab != null) {
            idx = liveBlockIndex(slab, address);
            if (newSize == 0 && !keepEmpty) {
                free(address);
                return 0;
            }
            oldRequested = slab.requestedSize(idx);
            oldUsable = slab.blockSize;
            // In place when the new size has this class, or would be given it by a growth (grownClassOf)
            if (newSize <= slab.blockSize && SizeClasses.grownClassOf(newSize) >= slab.sizeClass) {
                slab.setRequestedSize(idx, newSize);
                if (sites != null) resampleInPlace(slab, address, oldRequested, newSize);
                countResize(slab, oldRequested, newSize);
                return address;
            }
            if (inPlaceOnly) return 0;
        } else {
            if (newSize == 0 && !keepEmpty) {
                free(address);
                return 0;
            }
            boolean resized = false, limitOnly = false;
            long relocated = 0;
            for (int attempt = 0; ; attempt++) {
                LocalHeap cache = hold(); // before the page lock, the caches' order
                try {
                    lockOpen();
                    try {
                        oldRequested = validateBlock(address);
                        oldUsable = pages.blockPages(address) << PageHeap.PAGE_SHIFT;
                        long npages = (newSize + PageHeap.PAGE - 1) >>> PageHeap.PAGE_SHIFT;
                        if (newSize > SizeClasses.MAX_SMALL && npages <= Integer.MAX_VALUE) {
                            int page = pages.pageOf(address);
                            resized = pages.resize(page, npages, newSize);
                            if (!resized && newSize > oldRequested) {
                                resized = pages.growAcrossRunsIfNowhereElse(page, npages, newSize);
                            }
                            // Counted under the lock: a shrink's tail goes back here, and counted after the lock, the
                            // next thread to take its pages counted its block with the tail still in (as freePageRun)
                            if (resized) cache.countResize(oldRequested, newSize);
                            if (!resized && newSize > oldRequested) {
                                if (!inPlaceOnly) relocated = pages.relocate(page, npages, newSize);
                                if ((relocated & PageHeap.MOVED) != 0 && sites != null) forgetSampled(null, address);
                                limitOnly = relocated == 0 && attempt == 0 && pages.growsInPlaceButForTheLimit(page,
                                        npages);
                            }
                        }
                    } finally {
                        pages.lock().unlock();
                    }
                } finally {
                    release(cache);
                }
                if (!limitOnly) break;
                // Only the limit keeps the block from growing into the free pages after it: the calling thread's empty
                // slabs count as committed, and go back (as a refused copy's last try gives them back) before one more
                // try. Else the realloc was refused, its copy too, and the same realloc then grew in place.
                limitOnly = false;
                reclaimBeforeRefusal();
            }
            if (resized) {
                if (sites != null) resampleInPlace(null, address, oldRequested, newSize);
                if (newSize > oldRequested) samplePeakAfterCount();
                if (newSize > oldRequested && newSize >= largeEventBytes) {
                    Monitoring.largeAllocation(label, address, newSize); // grown in place to a large size
                }
                return address;
            }
            if (relocated != 0) return finishRelocation(address, relocated, oldRequested, oldUsable, newSize);
            if (inPlaceOnly) return 0;
        }
        // A block that grows past the small classes moves to a page run, not to a medium class: a block grown by
        // realloc is usually grown again (a buffer, a vector), and a page run can grow in place into the free pages
        // after it where a medium block, one size class per slab, must move and be copied every time.
        // The new block replaces the old one: its bytes are out of the live count from before the new one is counted
        // until after the old one's free has counted it, so that the peak never holds both (the program never had
        // both): not the cache's own, nor a sample of the heap's taken by another thread (its slow paths, stats())
        // while the bytes are copied
        // The block stays, resized in place, if a move it needs no memory for is refused: that refusal is no
        // exhaustion of the program's, and is kept from JFR (see LocalHeap.movingInPlaceIfRefused)
        boolean mayStay = newSize <= oldUsable && (slab == null || slab.canRecord(newSize));
        setAside(oldRequested, mayStay);
        long moved = 0;
        try { // refused, or freed: the bytes back either way
            moved = newSize <= oldRequested ? malloc(newSize)
                    : newSize > SizeClasses.MAX_SMALL ? mallocLarge(newSize, PageHeap.PAGE, false)
                    : mallocGrown(newSize); // each throws, leaving the old block intact, when the heap is exhausted
            // The bytes up to the old block's usable size, not its requested size: usableSize told the program it may
            // use them all (as glibc, jemalloc, tcmalloc and mimalloc, which copy the old usable size)
            Memory.copy(address, moved, Math.min(oldUsable, newSize));
            if (slab == null) {
                free(address);
            } else if (slab.owner.thread != Thread.currentThread() || slab.sampled != 0
                    || !slab.owner.freeLocal(slab, idx)) {
                // free's last two lines, for the slab found above (no second lookup). Not shared through a method:
                // that adds a call level to free, whose bytecode C2 inlines into every caller's loop; tried, the pair
                // benchmark showed no gain and no clear loss (its forks' two modes), so free stays as measured
                freeSmallSlow(slab, idx, address);
            }
        } catch (HeapExhaustedException refused) {
            // A block that holds the new size needs no memory to stay: a shrink (or a growth within its usable bytes)
            // whose move is refused is resized in place below; only a block that must grow is refused
            if (moved != 0 || !mayStay) throw refused;
        } finally {
            putBack(oldRequested, mayStay); // the free counted the old block out: its bytes back, for a net of one
        }
        return moved != 0 ? moved : resizeInPlace(slab, idx, address, oldRequested, newSize);
    }

    /**
     * Resizes the live block at {@code address} in place to {@code newSize} bytes, which it holds: a small or medium
     * block ({@code slab} not null) records the new size, a page run is cut to the pages of the new size (or keeps
     * them). For a realloc that would have moved the block to a smaller class and was refused for lack of memory.
     *
     * @return {@code address}
     */
    private long resizeInPlace(Slab slab, int idx, long address, long oldRequested, long newSize) {
        if (slab != null) {
            slab.setRequestedSize(idx, newSize);
            countResize(slab, oldRequested, newSize);
        } else {
            LocalHeap cache = hold(); // before the page lock, the caches' order
            try {
                lockOpen();
                try {
                    // never more pages than the run has, and never none (a block of 0 bytes keeps its first): it
                    // cannot fail
                    long npages = Math.max(1, (newSize + PageHeap.PAGE - 1) >>> PageHeap.PAGE_SHIFT);
                    pages.resize(pages.pageOf(address), npages, newSize);
                    cache.countResize(oldRequested, newSize); // under the lock, as realloc's own resize
                } finally {
                    pages.lock().unlock();
                }
            } finally {
                release(cache);
            }
            if (newSize > oldRequested) samplePeakAfterCount();
        }
        if (sites != null) resampleInPlace(slab, address, oldRequested, newSize);
        return address;
    }

    /**
     * For the CHECKED layer, whose realloc always moves a block: whether the live block at {@code address} can be
     * shrunk in place to {@code newSize} requested bytes ({@link #shrinkInPlace}) when that move is refused. A page
     * run always can; a small or medium block when its slab can record the size, any size up to the block's (a medium
     * block's far below its class too, since MediumShrinkFarAtTheLimitTest), as a FAST realloc's block stays.
     */
    public boolean canShrinkInPlace(long address, long newSize) {
        Slab slab = slabContaining(address);
        return slab == null || slab.canRecord(newSize);
    }

    /**
     * For the CHECKED layer: shrinks the live block at {@code address}, which the caller validated, to {@code newSize}
     * requested bytes, no more than it has and allowed by {@link #canShrinkInPlace}, as a FAST realloc whose move was
     * refused resizes its block ({@link #resizeInPlace}): the new size counted live, a page run's tail pages freed.
     */
    public void shrinkInPlace(long address, long newSize) {
        Slab slab = slabContaining(address);
        if (slab != null) {
            int idx = liveBlockIndex(slab, address);
            resizeInPlace(slab, idx, address, slab.requestedSize(idx), newSize);
            return;
        }
        long oldRequested;
        lockOpen();
        try {
            oldRequested = validateBlock(address);
        } finally {
            pages.lock().unlock();
        }
        resizeInPlace(null, -1, address, oldRequested, newSize);
    }

    /**
     * Finishes a page-run block's move to a new run ({@link PageHeap#relocate}): the pages moved (the old run is
     * free already) or, when the system call refused, the bytes are copied and the old block freed. Counted as
     * the malloc and free that a copying realloc makes. A copy takes the old run's {@code oldUsable} bytes (the new
     * run is longer), as the pages' move does.
     */
    private long finishRelocation(long address, long relocated, long oldRequested, long oldUsable, long newSize) {
        long moved = relocated & ~PageHeap.MOVED;
        if ((relocated & PageHeap.MOVED) == 0) {
            Memory.copy(address, moved, oldUsable);
            free(address);
        } else {
            LocalHeap cache = hold();
            try {
                cache.countFree(oldRequested);
            } finally {
                release(cache);
            }
        }
        return countLargeMalloc(moved, newSize);
    }

    /**
     * For the CHECKED layer: moves {@code delta} bytes out of (negative) or back into (positive) the calling thread's
     * live count, counting no malloc or free and leaving the peak alone: the bytes of engine blocks that the program
     * does not see (red zones, fronts, blocks waiting in quarantine). Taken out before the engine counts a block and
     * put back before it uncounts one, so that liveBytes and its peak are the program's.
     */
    public void countUnseen(long delta) {
        LocalHeap cache = hold();
        try {
            cache.countUnseen(delta);
        } finally {
            release(cache);
        }
    }

    /**
     * Takes the {@code bytes} of a block that a realloc moves out of the calling thread's live count until
     * {@link #putBack}, so that the peak never holds the old block and the new one together (the program never had
     * both); a refusal meanwhile still counts them as live ({@link LocalHeap#movingBytes}), the old block staying.
     */
    public void setAside(long bytes) {
        setAside(bytes, false);
    }

    /**
     * {@link #setAside(long)}; {@code mayStay}: the block stays, resized in place, if its move is refused, a refusal
     * then not told to JFR ({@link LocalHeap#movingInPlaceIfRefused}) until {@link #putBack(long, boolean)}.
     */
    private void setAside(long bytes, boolean mayStay) {
        LocalHeap cache = hold();
        try {
            cache.countUnseen(-bytes);
            cache.movingBytes += bytes;
            if (!mayStay) return;
            if (cache.thread != null) cache.movingInPlaceIfRefused = Thread.currentThread();
            else MOVING_IN_PLACE_IF_REFUSED.set(this); // a stripe, shared: its field is not this call's
        } finally {
            release(cache);
        }
    }

    /** @return the bytes of the blocks that reallocs are moving now, set aside from the live count (racy) */
    public long movingBytes() {
        long moving = 0;
        for (LocalHeap c : caches.all()) moving += c.movingBytes;
        return moving;
    }

    /** Ends a {@link #setAside}: the bytes back in the live count, whether the block moved (and was freed) or not. */
    public void putBack(long bytes) {
        putBack(bytes, false);
    }

    /** Ends a {@link #setAside(long, boolean)}. */
    private void putBack(long bytes, boolean mayStay) {
        LocalHeap cache = hold();
        try {
            cache.countUnseen(bytes);
            cache.movingBytes -= bytes;
            if (!mayStay) return;
            if (cache.thread != null) cache.movingInPlaceIfRefused = null;
            else MOVING_IN_PLACE_IF_REFUSED.remove();
        } finally {
            release(cache);
        }
    }

    /** Counts a resize in place of a block of {@code slab}: its live bytes and, for a medium block, its rounding. */
    private void countResize(Slab slab, long oldSize, long newSize) {
        LocalHeap cache = hold();
        try {
            cache.countResize(oldSize, newSize);
            if (slab.sizeClass >= SizeClasses.FIRST_MEDIUM) cache.mediumRounding += oldSize - newSize;
        } finally {
            release(cache);
        }
    }

    /** @return the index of the live small block at {@code address}; throws InvalidFreeException otherwise */
    private static int liveBlockIndex(Slab slab, long address) {
        int idx = slab.indexOf(address);
        if (idx < 0) throw new InvalidFreeException(address, Describe.insideSlab(address, slab));
        if (!slab.isAllocatedLocal(idx)) {
            throw new InvalidFreeException(address, Describe.alreadyFreed(address, slab.blockSize));
        }
        int held = slab.sampled != 0 ? slab.heldKind(idx) : 0;
        if (held != 0) throw new InvalidFreeException(address, Describe.held(address, held));
        return idx;
    }

    public long usableSize(long address) {
        checkOpen();
        if (address == 0) throw new InvalidFreeException(address, "usableSize of the null address");
        Slab slab = slabContaining(address);
        if (slab != null) {
            liveBlockIndex(slab, address);
            return slab.blockSize;
        }
        lockOpen();
        try {
            validateBlock(address);
            return pages.blockPages(address) << PageHeap.PAGE_SHIFT;
        } finally {
            pages.lock().unlock();
        }
    }

    /**
     * @return true when {@code address} is the start of a live block of this heap; never throws for an address
     *         outside it (for layers that validate before they read)
     */
    public boolean isLiveBlock(long address) {
        if (!contains(address) || closed) return false;
        Slab slab = slabContaining(address);
        if (slab != null) {
            int idx = slab.indexOf(address);
            return idx >= 0 && slab.isAllocatedLocal(idx);
        }
        pages.lock().lock();
        try {
            if (closed) return false; // closed since the look above: its page map is unmapped
            return pages.isBlockStart(address);
        } finally {
            pages.lock().unlock();
        }
    }

    /**
     * @return the start of the live block that holds {@code address} (at its start or inside it), or 0 when none does;
     *         never throws. For the words of a refusal only: a page-run block is looked for over at most 1 GiB of pages
     *         below the address
     */
    public long liveBlockContaining(long address) {
        if (!contains(address) || closed) return 0;
        Slab slab = slabContaining(address);
        if (slab != null) {
            int idx = slab.blockContaining(address);
            return idx >= 0 && slab.isAllocatedLocal(idx) ? slab.blockAddress(idx) : 0;
        }
        pages.lock().lock();
        try {
            if (closed) return 0; // closed since the look above: its page map is unmapped
            int run = pages.runContaining(address, 1 << 18);
            return run >= 0 && pages.isUsedRun(run) ? pages.address(run) : 0;
        } finally {
            pages.lock().unlock();
        }
    }

    /**
     * @return whether the memory at {@code address} is free as the engine sees it: the start of a small or medium block
     *         that is not live (freed, or never allocated), or an address in a free page run; never throws. For the
     *         words of a refusal only (FAST says "already freed (or was never allocated)" of both): a free page run is
     *         looked for over at most 1 GiB of pages below the address
     */
    public boolean isFreeMemory(long address) {
        if (!contains(address) || closed) return false;
        Slab slab = slabContaining(address);
        if (slab != null) {
            int idx = slab.indexOf(address);
            return idx >= 0 && !slab.isAllocatedLocal(idx);
        }
        pages.lock().lock();
        try {
            if (closed) return false; // closed since the look above: its page map is unmapped
            int run = pages.runContaining(address, 1 << 18);
            return run >= 0 && pages.isFreeRun(run);
        } finally {
            pages.lock().unlock();
        }
    }

    /**
     * {@link #isLiveBlock} for the holder of the exclusive cache {@code mine} ({@link #ownCache}): a block in the
     * cache's latest slab, where a block just allocated nearly always is, is looked up there, without the heap's
     * directory.
     */
    public boolean isLiveBlockOwn(LocalHeap mine, long address) {
        int idx = mine.recentIndex(address);
        if (idx == LocalHeap.NOT_RECENT) return isLiveBlock(address);
        return idx >= 0 && mine.recent().isAllocatedLocal(idx);
    }

    /** Checks the page layer's structure (boundary tags, free indexes, counters); throws if it is broken. */
    public void checkStructure() {
        checkOpen();
        lockOpen();
        try {
            String broken = pages.checkInvariants();
            if (broken != null) throw new IllegalStateException("heap " + name + " is damaged: " + broken);
        } finally {
            pages.lock().unlock();
        }
    }

    /** @return the size requested for the live block at {@code address} (the caller validated it) */
    public long requestedSize(long address) {
        Slab slab = slabOf(address);
        if (slab != null) return slab.requestedSize(slab.indexOf(address));
        lockOpen();
        try {
            return pages.blockRequested(address);
        } finally {
            pages.lock().unlock();
        }
    }

    /**
     * @return the size the engine's caller asked for the block that starts at {@code address}, when one is live there
     *         now, else -1; never throws, for a walk that runs while other threads free blocks and their slabs are
     *         reused (the size read then bounds every read of the block: it lies within the block, live or not)
     */
    public long liveRequestedSize(long address) {
        if (!contains(address) || closed) return -1;
        Slab slab = slabContaining(address);
        if (slab != null) {
            int idx = slab.indexOf(address);
            return idx >= 0 && slab.isAllocatedLocal(idx) ? slab.requestedSize(idx) : -1;
        }
        pages.lock().lock();
        try {
            if (closed) return -1; // closed since the look above: its page map is unmapped
            return pages.isBlockStart(address) ? pages.blockRequested(address) : -1;
        } finally {
            pages.lock().unlock();
        }
    }

    /**
     * Calls {@code action} with the address of every live block, in address order. Under concurrent use it sees
     * each block that stays live during the walk and may or may not see the others; exact when quiescent.
     */
    public void forEachLiveBlock(java.util.function.LongConsumer action) {
        checkOpen();
        for (PageHeap.RunInfo r : pages.runs()) {
            long address = base + ((long) r.page() << PageHeap.PAGE_SHIFT);
            if (r.state() == PageHeap.RUN_BLOCK) {
                action.accept(address);
            } else if (r.state() == PageHeap.RUN_SLAB) {
                Slab slab = slabOf(address);
                if (slab == null) continue;
                for (int i = 0; i < slab.capacity; i++) {
                    if (slab.isAllocatedLocal(i)) action.accept(slab.blockAddress(i));
                }
            }
        }
    }

    // ---------------------------------------------------------------- slabs (SlabSource)

    @Override
    public Slab newSlab(int sizeClass, LocalHeap owner, long request) {
        // Amortised: every 16th new slab of a cache looks at four caches for dead threads to adopt (the registry
        // lock is shared: taking it on every refill would make threads contend).
        if ((owner.slowPaths & 15) == 0) caches.reapDead(owner, 4);
        caches.shareSpares(owner); // from its first slab on, the cache counts in the spare budget's division
        caches.collectIdleStripes(owner); // their emptied slabs back before this one takes pages
        int npages = owner.nextSlabPages(sizeClass);
        for (int refused = 0; ; refused++) {
            lockOpen();
            try {
                if (refused == 0 && !pages.purgesAtOnce() && !pages.hasDirtyRun(npages)) {
                    releaseSparesBeforeGrowth(owner, npages);
                }
                long result = pages.allocateSlab(npages);
                if (result == 0) {
                    // Refused: the owner's spares, empty slabs of other classes, count as committed; given back, they
                    // may make room under the limit (see takeBlockPages)
                    owner.releaseAllSpares();
                    result = pages.allocateSlab(npages);
                }
                if (result != 0) {
                    Slab slab = owner.newSlab(result & ~PageHeap.FRESH, sizeClass, npages);
                    mapSlab(slab, slab);
                    pages.addMetadata(slab.metadataBytes());
                    samplePeak();
                    return slab;
                }
                if (refused == 2) throw exhausted(request, owner.asked >= 0 ? owner.asked : request); // JFR: the program's
            } finally {
                pages.lock().unlock();
            }
            if (refused == 0) {
                // Refused again: the caches of threads that ended may hold the room (see releaseOwnSpares), adopted
                // here outside the page lock, which comes after the registry's and the stripes'. A slab of the class
                // with room among those adopted serves the request without pages (it was refused, a free block at
                // hand); else the stripes no thread holds may hold the room, their remote frees collected and their
                // empty slabs given back; then one more try.
                caches.reapAll(owner);
                if (owner.hasQueued(sizeClass)) return null;
            } else {
                // Refused a third time: the stack blocks of ended threads and the stacks' idle ones go back (their
                // frees may land in the owner, whose slow path then runs again and finds the room: see LocalHeap), then
                // a stripe's free block of the class is lent (the purger adopts ended threads' caches into the first
                // stripe, out of a platform thread's reach); else the stripes' slabs those frees emptied go back, and a
                // last try. The stacks are taken without waiting for their lock: the owner is held (a stripe's lock)
                if (reclaimHeldNow.getAsBoolean() && owner.hasRoom(sizeClass)) return null;
                // (Not under the CHECKED layer: a concurrent verify() looks for a placement under way in the cache
                // that owns the block's slab, which would not be the placing one's)
                long lent = reportsExhaustion ? caches.lendFromIdleStripe(owner, sizeClass, request) : 0;
                if (lent != 0) {
                    owner.lend(lent);
                    return null;
                }
            }
            caches.releaseIdleStripes(owner);
        }
    }

    /**
     * The page layer has no dirty run for a new slab of {@code npages} pages: it would take pages the OS has not backed
     * yet, and the heap's committed bytes would grow while the requesting cache holds empty slabs of other classes.
     * So that cache first gives back its spares, oldest first, until a dirty run fits or it has given back four times
     * the pages wanted (the work stays proportional to the slab taken). The pages go where they are needed, merged
     * with their free neighbours, instead of sitting idle beside new ones; a spare exists to spare the page layer's
     * lock on a free/malloc cycle, and a cache about to take the lock and touch new pages has nothing to spare. At
     * gcc-cc1's committed peak the cache held 0.52 MB of empty slabs (its whole spare budget); with this, none, and its
     * peak committed / peak live fell from 1.38 to 1.23 ({@code docs/benchmarks.md}). Not with a decay time of 0: the
     * page layer would give the spares to the OS at once, and the cache's next malloc of their classes would fault new
     * pages in (mawk's replay: 9 times slower). Caller holds the page lock; {@code owner} is the calling thread's
     * cache.
     */
    private void releaseSparesBeforeGrowth(LocalHeap owner, int npages) {
        // A heap whose committed bytes would pass their peak keeps no medium spares past the budget (see
        // LocalHeap.mediumExtra); below its peak it does, or a steady loop that takes clean pages now and then gave
        // them back and was granted them again, purging 290 times in two minutes where it purged 44
        if (pages.wouldPassPeak(npages)) {
            owner.dropMediumExtra();
        }
        long released = 0;
        while (released < 4L * npages && !pages.hasDirtyRun(npages)) {
            int p = owner.releaseSpare();
            if (p == 0) return;
            released += p;
        }
    }

    @Override
    public void releaseSlab(Slab slab) {
        lockOpen();
        try {
            mapSlab(slab, null);
            pages.free(pages.pageOf(slab.base));
            pages.addMetadata(-slab.metadataBytes());
        } finally {
            pages.lock().unlock();
        }
    }

    /**
     * Maps the pages of {@code slab} to {@code value}, the slab when it is made, null when it is given back: every page
     * of a small slab, the first one of a medium slab, whose others are marked in {@link #interior} when it is made and
     * left as they are when it is given back. A stale back offset can only lead {@link #slabContaining} to a slab that
     * does not hold the address, which it checks; clearing them cost a loop over the slab's pages on every give-back.
     * Page lock held.
     */
    private void mapSlab(Slab slab, Slab value) {
        long first = (slab.base - base) >>> PageHeap.PAGE_SHIFT;
        if (slab.capacity == 1) {
            directoryChunk(first)[(int) first & (PAGES_PER_CHUNK - 1)] = value;
            if (value != null) markInterior(first, slab.pages);
            return;
        }
        for (int i = 0; i < slab.pages; i++) {
            long page = first + i;
            directoryChunk(page)[(int) page & (PAGES_PER_CHUNK - 1)] = value;
        }
    }

    /** @return the directory chunk of {@code page}, made if it has none yet. Page lock held. */
    private Slab[] directoryChunk(long page) {
        int ci = (int) (page >>> (CHUNK_SHIFT - PageHeap.PAGE_SHIFT));
        Slab[] chunk = directory[ci];
        if (chunk == null) directory[ci] = chunk = new Slab[PAGES_PER_CHUNK];
        return chunk;
    }

    /**
     * Writes the back offsets of the pages after {@code first} of a medium slab of {@code pages} pages (1 for the
     * second page, and so on) into {@link #interior}: one copy from {@link #BACK_OFFSETS} a directory chunk it spans.
     * Page lock held.
     */
    private void markInterior(long first, int pages) {
        for (int i = 1; i < pages; ) {
            long page = first + i;
            int ci = (int) (page >>> (CHUNK_SHIFT - PageHeap.PAGE_SHIFT)), pi = (int) page & (PAGES_PER_CHUNK - 1);
            byte[] backs = interior[ci];
            if (backs == null) interior[ci] = backs = new byte[PAGES_PER_CHUNK];
            int n = Math.min(pages - i, PAGES_PER_CHUNK - pi);
            System.arraycopy(BACK_OFFSETS, i, backs, pi, n);
            i += n;
        }
    }

    /** Entry {@code i} is {@code i}: the back offsets of a medium slab's pages, copied by {@link #markInterior}. */
    private static final byte[] BACK_OFFSETS = new byte[SizeClasses.MAX_CACHED >>> PageHeap.PAGE_SHIFT];

    static {
        for (int i = 0; i < BACK_OFFSETS.length; i++) BACK_OFFSETS[i] = (byte) i;
    }

    // ---------------------------------------------------------------- heap-wide

    /**
     * Adopts the caches of dead threads (releasing their empty slabs), collects the remote frees waiting in the
     * caller's cache and in the stripes shared by virtual threads, gives their empty slabs to the page layer, then
     * gives every free page back. Other threads' caches keep their spares (their shares of the spare budget): only a
     * cache's holder may touch them.
     */
    public void trim() {
        checkOpen();
        LocalHeap cache = hold();
        try {
            caches.reapAll(cache);
            cache.drainPending();
            cache.releaseEmpty();
            caches.leaveSparesIfEmpty(cache);
        } finally {
            release(cache);
        }
        caches.drainStripes();
        pages.trim();
    }

    public boolean contains(long address) {
        return Long.compareUnsigned(address - base, reserved) < 0;
    }

    public HeapStats stats() {
        return stats(true);
    }

    /**
     * {@return this heap's figures; with {@code resident} false, {@link HeapStats#residentBytes()} is 0 and no
     * {@code mincore} call is made, which keeps the call O(thread caches and their pending slabs' bitmap words, see
     * {@link LocalHeap#uncollectedSlack}): for checks that read the counters after every operation}
     */
    public HeapStats stats(boolean resident) {
        checkOpen();
        ThreadCaches.Counted counted = caches.counted();
        long live = counted.live(), mallocs = counted.mallocs(), frees = counted.frees(), peak = counted.cachePeak();
        long peakLive, committed, peakCommitted, largest, dirty, purges, metadata, peakFootprint, rounding;
        lockOpen();
        try {
            // One thread: its cache's peak is exact. Several: a cache's own peak means nothing when other threads
            // free its blocks, so the heap's peak is sampled (slab refills, page-layer calls, stats()).
            peakLive = Math.max(counted.singleUser() ? peak : Math.max(peakSample.value(), counted.soloPeak()), live);
            peakSample.raise(peakLive);
            committed = pages.committedBytes();
            peakCommitted = pages.peakCommittedBytes();
            largest = pages.largestDirtyBytes();
            dirty = pages.dirtyBytes();
            purges = pages.purgeCount();
            metadata = pages.metadataBytes();
            peakFootprint = pages.peakFootprintBytes();
            rounding = pages.blockRoundingBytes();
        } finally {
            pages.lock().unlock();
        }
        // A sum of counters other threads are changing (a CHECKED malloc takes its red zones out before the engine
        // counts its block; a remote free counts in the freeing thread's cache) can read below zero for an instant
        live = Math.max(0, live);
        // Every live byte sits in a committed page, so the peak of live bytes is at most the peak of committed ones.
        // A sample is a racy sum, and one whose reads straddle a free and the malloc that takes the freed pages on
        // (a reader preempted between two caches) counts that block twice: reported within the bound, the sample kept
        // as read (tests read it: a count made after the page lock, a review's find, showed there as 4 MiB over).
        peakLive = Math.min(peakLive, peakCommitted);
        // A page-run block's rounding is neither live nor free: counted free, a heap holding one 300,001-byte block
        // and nothing else read an external fragmentation of 1.0 (3,103 bytes "free", none of it in a free run). A
        // medium block's neither: a heap holding one thread stack (65,552 bytes in the 72 KiB class) read 1.0 too
        rounding += counted.mediumRounding();
        return new HeapStats(live, peakLive, committed, peakCommitted, reserved, mallocs, frees,
                Math.max(0, committed - live - rounding), largest, dirty, purges, counted.caches(),
                resident ? residentBytes() : 0, metadata, peakFootprint);
    }

    /** The resident scan, outside the page lock; a heap closed meanwhile (its range unmapped) says it is closed. */
    private long residentBytes() {
        try {
            return pages.residentBytes();
        } catch (IllegalStateException e) {
            pages.lock().lock();
            try {
                checkOpen();
            } finally {
                pages.lock().unlock();
            }
            throw e;
        }
    }

    /** @return a picture of the heap's runs and size classes; see {@link HeapSnapshot} */
    public HeapSnapshot snapshot() {
        checkOpen();
        java.util.List<HeapSnapshot.Run> runs = new java.util.ArrayList<>();
        int n = SizeClasses.COUNT;
        int[] slabs = new int[n];
        long[] slabBytes = new long[n], live = new long[n], free = new long[n], requested = new long[n];
        for (PageHeap.RunInfo r : pages.runs()) {
            long offset = (long) r.page() << PageHeap.PAGE_SHIFT, bytes = r.pages() << PageHeap.PAGE_SHIFT;
            switch (r.state()) {
                case PageHeap.RUN_BLOCK -> runs.add(new HeapSnapshot.Run(offset, bytes, HeapSnapshot.Kind.BLOCK,
                        r.requested(), 1, 1));
                case PageHeap.RUN_SLAB -> {
                    Slab slab = slabOf(base + offset);
                    // Released between the walk and this look-up, or its pages already another slab's (a run smaller
                    // than its own block was seen under churn): the run is left out of the picture
                    if (slab == null || slab.base != base + offset || slab.pages != r.pages()) continue;
                    int used = slab.liveBlocks();
                    int c = slab.sizeClass;
                    slabs[c]++;
                    slabBytes[c] += bytes;
                    live[c] += used;
                    free[c] += slab.capacity - used;
                    requested[c] += slab.requestedBytes();
                    runs.add(new HeapSnapshot.Run(offset, bytes, HeapSnapshot.Kind.SLAB, slab.blockSize,
                            slab.capacity, used));
                }
                case PageHeap.RUN_DIRTY -> runs.add(new HeapSnapshot.Run(offset, bytes, HeapSnapshot.Kind.FREE_DIRTY,
                        0, 0, 0));
                default -> runs.add(new HeapSnapshot.Run(offset, bytes, HeapSnapshot.Kind.FREE_CLEAN, 0, 0, 0));
            }
        }
        java.util.List<HeapSnapshot.SizeClassUsage> classes = new java.util.ArrayList<>();
        for (int c = 0; c < n; c++) {
            if (slabs[c] > 0) {
                classes.add(new HeapSnapshot.SizeClassUsage(SizeClasses.size(c), slabs[c], slabBytes[c], live[c],
                        free[c], requested[c]));
            }
        }
        return new HeapSnapshot(base, reserved, PageHeap.PAGE, java.util.List.copyOf(runs),
                java.util.List.copyOf(classes));
    }

    @Override
    public long spareBudget() {
        return spareBudget;
    }

    @Override
    public long firstSampleCountdown() {
        return sites == null ? Long.MAX_VALUE : sites.nextCountdown();
    }

    /**
     * Every 64th of a cache's slow paths samples the peak. Each sample reads the counters of every other cache, a
     * line its thread writes on every malloc and free, which that thread must then fetch back: at every 16th slow
     * path two larson threads ran 6-7% slower than at every 64th or rarer (same JVM, two heaps in turn). Growth
     * past the slabs a cache holds is sampled anyway, at every new slab ({@link #newSlab}).
     */
    private static final int PEAK_SAMPLE_MASK = 63;

    @Override
    public void onSlowPath(LocalHeap cache) {
        // A cache's first malloc comes here before it counts (a new cache has no current slab): see beforeFirstCount
        if (cache.neverCounted()) caches.beforeFirstCount();
        if ((++cache.slowPaths & PEAK_SAMPLE_MASK) == 0) {
            samplePeak();
            cache.scavengeMediumExtra();
        }
    }

    @Override
    public long grantMediumExtra(long bytes) {
        long cap = Math.min(MEDIUM_EXTRA_SHARES * spareBudget, limitBytes / 16);
        for (long granted = mediumExtraGranted.get(); granted + bytes <= cap; granted = mediumExtraGranted.get()) {
            if (mediumExtraGranted.compareAndSet(granted, granted + bytes)) return bytes;
        }
        return 0;
    }

    @Override
    public void returnMediumExtra(long bytes) {
        mediumExtraGranted.addAndGet(-bytes);
    }

    @Override
    public long nanoTime() {
        return clock.getAsLong();
    }

    @Override
    public long scavengeNanos() {
        return decayNanos;
    }

    /**
     * Samples the heap-wide live bytes (racy reads of the caches' counters), so that the peak across threads is
     * tracked; O(caches), skipped beyond 64 caches. A racy max update at worst loses one sample. Blocks other threads
     * freed and their owners have not collected are counted at their block size here (see {@link Slab}): below the
     * live bytes by their slack, never above.
     */
    private void samplePeak() {
        long live = caches.retiredLive(); // before the list: a cache adopted meanwhile is counted once at most
        LocalHeap[] all = caches.all();
        if (all.length > 64) return;
        for (LocalHeap c : all) live += c.live;
        peakSample.raise(live);
    }

    private HeapExhaustedException exhausted(long request) {
        return exhausted(request, request);
    }

    /** {@link #exhausted(long)}, JFR told of the {@code asked} bytes the program asked for (without a layer's own). */
    private HeapExhaustedException exhausted(long request, long asked) {
        long live = caches.retiredLive(); // the blocks of caches whose threads ended, as stats() counts them
        long rounding = caches.retiredRounding() + pages.blockRoundingBytes();
        // Page lock held; a block a realloc is moving is live, though set aside from the count (the refused realloc's
        // own old block among them: its message said "live 6000" with 9000 live, a review found, 2026-12-07)
        // A realloc's move that the block survives, resized in place, refuses the program nothing: not told to JFR
        Thread me = Thread.currentThread();
        boolean staysInPlace = me.isVirtual() && MOVING_IN_PLACE_IF_REFUSED.get() == this;
        for (LocalHeap c : caches.all()) {
            live += c.racyLiveBytes() + c.movingBytes;
            rounding += c.mediumRounding;
            staysInPlace |= c.movingInPlaceIfRefused == me;
        }
        long committed = pages.committedBytes();
        long free = Math.max(0, committed - live - rounding); // as stats() counts it
        if (reportsExhaustion && !staysInPlace) {
            Monitoring.exhausted(label, asked, pages.limitBytes(), committed, live, free, pages.largestDirtyBytes());
        }
        return new HeapExhaustedException(request, "heap " + name + " cannot allocate " + request + " bytes: "
                + boundDescription() + ", committed " + committed + ", live " + live + " bytes, free "
                + free + " bytes committed (" + pages.dirtyBytes()
                + " in free page runs), largest free block " + pages.largestDirtyBytes()
                + " bytes committed, largest free address range " + pages.largestFreeBytes() + " bytes");
    }

    /**
     * Takes the page lock of an open heap. A caller's {@link #checkOpen} can pass just before another thread's
     * {@link #close} (stats() from a JFR or JMX thread, a racing program), which unmaps the page map under this lock:
     * read after that, it would crash the JVM, so the lock is given back and IllegalStateException thrown instead.
     */
    private void lockOpen() {
        pages.lock().lock();
        if (closed) {
            pages.lock().unlock();
            checkOpen();
        }
    }

    /** @throws IllegalStateException when the heap is closed */
    public void checkOpen() {
        if (closed) throw new IllegalStateException("heap " + name + " is closed");
    }

    /**
     * @return the exception for a bad argument, to throw; on a closed heap throws IllegalStateException instead, as
     *         every call on a closed heap does whatever its arguments
     */
    public IllegalArgumentException badArgument(String message) {
        checkOpen();
        return new IllegalArgumentException(message);
    }

    public boolean isClosed() {
        return closed;
    }

    /** Gives every page back to the OS and unmaps the reservation; later calls throw IllegalStateException. */
    public void close() {
        pages.lock().lock();
        try {
            if (closed) return;
            closed = true;
            OPEN.remove(this);
            Monitoring.unlabel(label);
            Os.unmap(base, reserved);
            pages.release();
        } finally {
            pages.lock().unlock();
        }
        // The threads that used the heap keep it reachable no longer. After the page lock, never under it: the
        // registry's lock comes first where an adoption gives slabs back to the page layer (the purger's, say)
        caches.forgetThreads();
    }

    long base() {
        return base;
    }
}
