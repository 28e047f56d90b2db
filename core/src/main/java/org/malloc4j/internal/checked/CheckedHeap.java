package org.malloc4j.internal.checked;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.malloc4j.HeapCorruptionException;
import org.malloc4j.HeapDamage;
import org.malloc4j.HeapExhaustedException;
import org.malloc4j.HeapStats;
import org.malloc4j.InvalidFreeException;
import org.malloc4j.internal.BlockAllocator;
import org.malloc4j.internal.HeapCore;
import org.malloc4j.internal.monitor.Monitoring;
import org.malloc4j.internal.os.Memory;
import org.malloc4j.internal.page.PageHeap;
import org.malloc4j.internal.sites.Site;
import org.malloc4j.internal.sites.SiteRecord;
import org.malloc4j.internal.sites.SiteRecorder;
import org.malloc4j.internal.small.LocalHeap;
import org.malloc4j.internal.small.SizeClasses;

/**
 * The CHECKED mode: a layer over the engine that puts red zones around every block, fills new blocks with junk and
 * freed ones with poison, and holds freed blocks in a {@link Quarantine} before the engine may reuse them (layout
 * in {@link RedZones}). It finds double frees by the header's FREED bit (set with a compare-and-set, so two threads
 * freeing one block cannot both succeed), overflows and underflows by the canaries, writes after free by the poison.
 *
 * <p>Everything the engine validates stays validated: this layer reads a header only at an address inside the
 * heap's reservation (always mapped), and trusts it only after checking its keyed hash and asking the engine
 * whether the block it names is live.
 */
public final class CheckedHeap implements BlockAllocator {
    private final HeapCore core;
    private final RedZones zones;
    private final Quarantine quarantine;
    private final java.util.function.LongConsumer beforeRelease;
    /** Blocks of at least this many program bytes are told to JFR ({@code Heap.Builder.largeAllocationEvent}). */
    private final long largeEventBytes;
    /** Whether the heap records allocation sites. */
    private final boolean tracksSites;
    /**
     * The program addresses of the thread stacks' blocks ({@link #stackBlock}), whose headers carry the
     * {@link RedZones#ARENA} bit as an arena's do: read only to word a refusal ({@link #flagged}).
     */
    private final java.util.Set<Long> stackBlocks = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /**
     * The bytes by which the fronts of the engine's live blocks exceed {@link RedZones#HEADER} (blocks aligned beyond
     * 16 bytes), for the red zones {@link #adjust} takes out of the free bytes: every other block's are its count
     * times {@code HEADER + TAIL}, so that a plain malloc and free count nothing here.
     */
    private final java.util.concurrent.atomic.LongAdder alignedFronts = new java.util.concurrent.atomic.LongAdder();
    /**
     * Placements of blocks that may be page runs ({@link #place}) between their engine call and their header: the
     * engine counts a page run after the page layer handed it out, under a virtual thread's stripe lock that another
     * virtual thread may hold for a long while, and {@link #verify} found the block live with no header yet, twice,
     * and reported a correct program's block as an underflow (CheckedVerifyWhileAPageRunIsPlacedTest). A small
     * block's placement counts itself in its thread's cache instead ({@link LocalHeap#placingStarts}).
     */
    private final AtomicInteger placingRuns = new AtomicInteger();

    /**
     * @param beforeRelease told the program address of every block whose free (or realloc) has been validated, just
     *        before the block is released: the heap closes the block's segment scope there
     */
    public CheckedHeap(HeapCore core, long quarantineBytes, java.util.function.LongConsumer beforeRelease,
            long largeEventBytes) {
        this.core = core;
        this.largeEventBytes = largeEventBytes;
        this.beforeRelease = beforeRelease;
        this.tracksSites = core.sites() != null;
        this.zones = new RedZones(new SecureRandom().nextLong());
        this.quarantine = new Quarantine(quarantineBytes, this::evict);
    }

    @Override
    public String name() {
        return core.name();
    }

    @Override
    public boolean isClosed() {
        return core.isClosed();
    }

    // ---------------------------------------------------------------- allocation

    @Override
    public long malloc(long size) {
        if (size < 0) throw core.badArgument("size must be non-negative: " + size);
        return place(size, 4, false, false);
    }

    @Override
    public long alignedAlloc(long alignment, long size) {
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0) {
            throw core.badArgument("alignment must be a power of two: " + alignment);
        }
        if (size < 0) throw core.badArgument("size must be non-negative: " + size);
        return placeAligned(size, Math.max(4, Long.numberOfTrailingZeros(alignment)), false);
    }

    /** {@link #place} of a block aligned to {@code 1 << logAlign}, its front beyond the header counted. */
    private long placeAligned(long size, int logAlign, boolean arena) {
        return placeAligned(size, logAlign, arena, false);
    }

    /** {@link #placeAligned(long, int, boolean)}; {@code quiet} as {@link #place(long, int, boolean, boolean, boolean)}'s */
    private long placeAligned(long size, int logAlign, boolean arena, boolean quiet) {
        long p = place(size, logAlign, false, arena, quiet);
        long extra = (1L << Math.min(logAlign, MAX_FRONT_LOG)) - RedZones.HEADER;
        if (extra > 0) alignedFronts.add(extra);
        return p;
    }

    /** A block whose front is {@code front} bytes went back to the engine: its front beyond the header is uncounted. */
    private void frontReleased(long front) {
        if (front > RedZones.HEADER) alignedFronts.add(RedZones.HEADER - front);
    }

    public long calloc(long count, long size) {
        if (count < 0) throw core.badArgument("calloc count must be non-negative: " + count);
        if (size < 0) throw core.badArgument("calloc size must be non-negative: " + size);
        if (Math.multiplyHigh(count, size) != 0 || count * size < 0) {
            throw core.badArgument("calloc count * size overflows: " + count + " * " + size);
        }
        return place(count * size, 4, true, false);
    }

    /** Fronts above a page cost a page, not a whole alignment: the engine aligns the address one page into the run. */
    private static final int MAX_FRONT_LOG = 12;

    /**
     * An arena's segment is a block of its own, at offset 0: between the red zones, as the program's blocks are, and
     * named by the damage found in it. Its header's {@link RedZones#ARENA} bit refuses a free, realloc or usableSize of
     * it through the heap: it is freed through its arena ({@link #freeArenaBlock}).
     */
    @Override
    public long arenaOffset(long alignment) {
        return 0;
    }

    @Override
    public long arenaBlock(long alignment, long size) {
        return placeAligned(size, Math.max(4, Long.numberOfTrailingZeros(alignment)), true);
    }

    @Override
    public void freeArenaBlock(long block) {
        free(block, true);
    }

    /** The program's size of a live arena or stack block: what {@link #adjust}'s live bytes count for it. */
    @Override
    public long heldBytes(long block) {
        return startsLiveBlock(block) ? RedZones.sizeOf(Memory.getLong(block - 16)) : -1;
    }

    /** A CHECKED heap's arenas carve nothing: every segment is a block of its own ({@link #arenaBlock}). */
    @Override
    public long arenaChunk(long size, long asked) {
        throw new UnsupportedOperationException("a CHECKED heap's arenas carve no chunks");
    }

    /**
     * A thread stack's block is held as an arena's segment is: its header's {@link RedZones#ARENA} bit refuses a free,
     * realloc or usableSize of it through the heap, which would free the stack under its frames.
     */
    @Override
    public long stackBlock(long size) {
        long p = place(size, 4, false, true);
        stackBlocks.add(p);
        return p;
    }

    @Override
    public void freeStackBlock(long block) {
        stackBlocks.remove(block); // first: a free that finds damage throws, the block freed all the same
        free(block, true);
    }

    private long place(long size, int logAlign, boolean zero, boolean arena) {
        return place(size, logAlign, zero, arena, false);
    }

    /**
     * @param quiet a refusal is thrown as the engine's, not named and told to JFR ({@link #refused}), and the block
     *        is no JFR large allocation: for the move of a shrinking realloc, which is no exhaustion when the block can
     *        stay ({@link #shrinkInPlace}), and allocates nothing large (FAST shrinks such a block in place, untold)
     */
    private long place(long size, int logAlign, boolean zero, boolean arena, boolean quiet) {
        int frontLog = Math.min(logAlign, MAX_FRONT_LOG);
        long front = 1L << frontLog;
        if (size > RedZones.SIZE_MASK || size > Long.MAX_VALUE - front - RedZones.TAIL) {
            // Too large for any heap: the engine refuses it, and it is named and told to JFR as every refusal here,
            // in the program's figures (the engine's message counted the red zones free, its event had the moving
            // block of a realloc out of live: the two disagreed, a review found, 2026-12-07)
            try {
                return core.malloc(size);
            } catch (HeapExhaustedException e) {
                throw refused(e, size, "");
            }
        }
        long request = front + size + RedZones.TAIL;
        // A concurrent verify() must not read the block, live in the engine before its header is written, as damaged:
        // a small block's placement counts itself in its thread's cache (no shared atomic on the CHECKED malloc),
        // which verify() finds as the owner of the block's slab; the others (page runs, aligned blocks) here
        // Open first, on every path: on a closed heap the count below (or core.cache()) registered a cache for a thread
        // that had none, after close had let go of the threads' caches, and the thread kept the closed heap reachable
        core.checkOpen();
        LocalHeap own = null, cache = null;
        if (request <= SizeClasses.MAX_CACHED && logAlign == 4) {
            cache = (own = core.ownCache()) != null ? own : core.cache();
            cache.placingStarts();
        } else {
            placingRuns.incrementAndGet();
        }
        long b, p;
        boolean fresh;
        try {
            try {
                b = counted(size, request, front, logAlign, zero, own);
            } catch (HeapExhaustedException e) {
                throw quiet ? e : refused(e, size, request);
            }
            fresh = (b & PageHeap.FRESH) != 0; // a calloc's page run whose every page is fresh
            b &= ~PageHeap.FRESH;
            p = b + front;
            // The header before the fill: until it is rewritten, the old one (FREED) still stands over the old poison,
            // and a concurrent verify() would read junk under it as a write after free
            zones.arm(b, p, size, frontLog, arena);
        } finally {
            if (cache != null) cache.placingEnds();
            else placingRuns.decrementAndGet();
        }
        if (!zero) RedZones.junk(p, size);
        else if (!fresh) Memory.zero(p, size); // pages fresh from the OS read as zero: not written (calloc's contract)
        if (size >= largeEventBytes && !quiet) Monitoring.largeAllocation(core.label(), p, size);
        return p;
    }

    /**
     * @return an engine block of {@code request} bytes, counted as {@code size} live bytes: the engine counts the
     *         request, the program sees its size, and the difference is taken out before the engine counts (not
     *         after), so that the engine's peak never holds the red zones; put back when the request fails. A small
     *         block through {@code own} when not null: the calling thread's cache, as {@link HeapCore#ownCache}
     *         found it. The caller checked the heap open.
     */
    private long counted(long size, long request, long front, int logAlign, boolean zero, LocalHeap own) {
        if (logAlign == 4 && request <= SizeClasses.MAX_CACHED) {
            if (own != null) {
                own.countUnseen(size - request);
                boolean done = false;
                try {
                    long b = core.mallocOwn(own, request);
                    done = true;
                    return b;
                } catch (HeapExhaustedException full) {
                    // and on, below: the quarantine may make room
                } finally {
                    if (!done) own.countUnseen(request - size); // whatever was thrown
                }
            }
        }
        core.countUnseen(size - request);
        boolean done = false;
        try {
            long b;
            try {
                b = engineBlock(request, front, logAlign, zero);
            } catch (HeapExhaustedException full) {
                b = afterQuarantine(full, request, front, logAlign, zero);
            }
            done = true;
            return b;
        } finally {
            if (!done) core.countUnseen(request - size);
        }
    }

    /**
     * The engine refused a request: blocks waiting in quarantine are free to the program, so the ones this thread may
     * release leave it (checked as they leave, damage kept for verify()), and the request is tried again once.
     */
    private long afterQuarantine(HeapExhaustedException full, long request, long front, int logAlign, boolean zero) {
        // The stack blocks of ended threads first (their frees enter the quarantine): the engine takes them back
        // before refusing a page run only, as a small request's refusal holds its cache, which this layer's frees, and
        // their quarantine's locks, must not wait under (HeapCore.beforeSmallRefusal)
        boolean small = request <= SizeClasses.MAX_CACHED;
        if (small) core.reclaimHeldBeforeRetry();
        if (!quarantine.releaseOwn() && !small) throw full;
        return engineBlock(request, front, logAlign, zero);
    }

    /**
     * @return the engine block, for a calloc ({@code zero}) with {@link PageHeap#FRESH} set when it is a page run whose
     *         every page is fresh from the OS (it reads as zero, and {@link #place} writes none of it but the red zones)
     */
    private long engineBlock(long request, long front, int logAlign, boolean zero) {
        if (zero && logAlign == 4) return core.mallocTellingFresh(request);
        if (logAlign == 4) return core.malloc(request);
        if (logAlign <= MAX_FRONT_LOG) return core.alignedAlloc(front, request);
        return core.alignedAllocAtOffset(1L << logAlign, front, request);
    }

    /**
     * A final refusal, in the program's terms: its request, and the JFR event with the program's live bytes (the
     * engine, which may still have been served from the quarantine, does not emit it under this layer).
     */
    private HeapExhaustedException refused(HeapExhaustedException e, long size, long request) {
        return refused(e, size, " (" + request + " with the CHECKED red zones)");
    }

    /** {@link #refused(HeapExhaustedException, long, long)}, {@code request} said in words after the size. */
    private HeapExhaustedException refused(HeapExhaustedException e, long size, String request) {
        // The program's live bytes (red zones and quarantined blocks are not in it), and its free bytes (red zones not
        // in them either)
        HeapStats s = adjust(core.stats(false));
        // with the blocks that reallocs are moving, a refused one's among them: they stay live
        long moving = core.movingBytes();
        long limit = core.limitBytes(), committed = s.committedBytes(), live = s.liveBytes() + moving;
        long free = Math.max(0, s.freeBytes() - moving);
        Monitoring.exhausted(core.label(), size, limit, committed, live, free, s.largestFreeBlock());
        HeapExhaustedException named = new HeapExhaustedException(size, "heap " + core.name() + " cannot allocate "
                + size + " bytes" + request + ": " + core.boundDescription() + ", committed "
                + committed + ", live " + live + " bytes, free " + free + " bytes committed ("
                + s.retainedBytes() + " in free page runs, " + quarantine.held()[1] + " in blocks other threads hold"
                + " in quarantine), largest free block " + s.largestFreeBlock() + " bytes committed");
        named.initCause(e);
        return named;
    }

    public long realloc(long address, long newSize) {
        return realloc(address, newSize, false, 4);
    }

    /** {@link #realloc}, but a size of 0 keeps a live block of 0 bytes: see {@code HeapCore.reallocKeepingEmpty}. */
    public long reallocKeepingEmpty(long address, long newSize) {
        return realloc(address, newSize, true, 4);
    }

    /**
     * For {@code Heap.reallocate} to an alignment above 16 bytes (a power of two), a size of 0 keeping a live block:
     * moves the block to one with the alignment, as {@link #realloc} moves every block, and a shrink whose move is
     * refused stays in place when its address has the alignment. It moved through a plain aligned allocation, so that
     * a heap at its limit refused such a shrink (AlignedReallocateInPlaceTest).
     */
    public long reallocAligned(long address, long newSize, long alignment) {
        return realloc(address, newSize, true, Long.numberOfTrailingZeros(alignment));
    }

    /** @param logAlign log2 of the alignment of the block the move takes (4: malloc's) */
    private long realloc(long address, long newSize, boolean keepEmpty, int logAlign) {
        if (newSize < 0) throw core.badArgument("realloc size must be non-negative: " + newSize);
        if (address == 0) return malloc(newSize);
        long h0 = liveHeader(address, "realloc", false);
        refuseDamaged(address, h0);
        if (newSize == 0 && !keepEmpty) {
            free(address);
            return 0;
        }
        // Always move (a shrink stays only when the move is refused): a stale pointer to the old block then lands in
        // poison, and is found. The old block's bytes are out of the live count from before the new one is counted
        // until after the old one's free: the new block replaces it, so the peak holds one of them, as when FAST
        // resizes in place (also a sample of the heap's peak that another thread takes while the bytes are copied).
        // The free counts what it did with the old block (freed, quarantined, or left live when it refused), and the
        // bytes put back after it net that out.
        long oldSize = RedZones.sizeOf(h0);
        // A shrink may stay where it is only at an address with the alignment asked
        boolean mayStay = newSize <= oldSize && (address & ((1L << logAlign) - 1)) == 0;
        HeapExhaustedException refusal = null;
        core.setAside(oldSize);
        try { // refused, or freed: the bytes back either way
            long moved;
            try {
                moved = logAlign == 4 ? place(newSize, 4, false, false, mayStay)
                        : placeAligned(newSize, logAlign, false, mayStay);
            } catch (HeapExhaustedException e) {
                if (!mayStay) throw e; // named and told to JFR by place
                refusal = e;
                moved = 0;
            }
            if (moved != 0) {
                Memory.copy(address, moved, Math.min(oldSize, newSize));
                return freeOldOrUndo(address, moved);
            }
        } finally {
            core.putBack(oldSize);
        }
        return shrinkInPlace(address, h0, newSize, refusal);
    }

    /**
     * A realloc's look at the red zones that its free would check (the tail canary, an aligned block's marker), before
     * the new block is taken: a free after the copy would throw with the new block taken. Damage found frees the
     * block and is thrown as the realloc's finding (a free's words named the wrong call).
     */
    private void refuseDamaged(long address, long h0) {
        long size = RedZones.sizeOf(h0), front = RedZones.frontOf(h0);
        long tail = zones.tailDamage(address, size), marker = -1;
        if (tail < 0 && (front == RedZones.HEADER || (marker = zones.markerDamage(address - front, front)) < 0)) return;
        beforeRelease.accept(address);
        throw tail >= 0 ? damaged(address, h0, size, HeapDamage.Kind.OVERFLOW, tail, "realloc")
                : damaged(address, h0, size, HeapDamage.Kind.UNDERFLOW, marker - front, "realloc");
    }

    /**
     * A shrinking realloc whose move was refused (a heap at its limit): the block needs no memory to stay, so it
     * stays, as a FAST heap's does, re-armed at the new size (a new header generation, the tail canary after the new
     * size, where an overflow of the new size hits it); its segment's scope closes, as when a block moves. Until
     * 2026-12-07 a CHECKED heap at its limit refused every shrink, and until a later review a medium block shrunk
     * more than 64 KiB below its class (its slab could not record the size: MediumShrinkFarAtTheLimitTest). A block
     * whose engine could not record the size would still be refused, named and told to JFR as a refused malloc.
     *
     * @return {@code address}
     */
    private long shrinkInPlace(long address, long h0, long newSize, HeapExhaustedException refusal) {
        long front = RedZones.frontOf(h0);
        long b = address - front, request = front + newSize + RedZones.TAIL;
        if (!core.canShrinkInPlace(b, request)) throw refused(refusal, newSize, request);
        beforeRelease.accept(address); // may throw (a segment in use on a downcall): the block is left as it was
        core.shrinkInPlace(b, request);
        zones.arm(b, address, newSize, Long.numberOfTrailingZeros(front), false);
        return address;
    }

    /**
     * For {@link #free(long, boolean)}: the block's tail canary is not the live one, or an aligned block's marker was
     * hit. Another thread freed it since its header was read (a double free), or the program wrote past the end of
     * this block (or of the one before): the block is freed, and the damage returned to throw. A method of its own, so
     * that the free's code stays under the size C2 inlines.
     */
    private RuntimeException damaged(long address, long h0, long size, HeapDamage.Kind kind, long offset) {
        return damaged(address, h0, size, kind, offset, "free");
    }

    /** {@link #damaged(long, long, long, HeapDamage.Kind, long)}, found by {@code op} ("free" or "realloc"). */
    private RuntimeException damaged(long address, long h0, long size, HeapDamage.Kind kind, long offset, String op) {
        if (zones.freedTailDamage(address, size) < 0) { // another thread freed it since liveHeader read it
            return op.equals("free") ? new InvalidFreeException(address, doubleFree(address, size, "a concurrent free"))
                    : alreadyFreed(address, h0, op);
        }
        HeapDamage d = damage(address, RedZones.frontOf(h0), size, kind, offset);
        release(address, h0);
        return new HeapCorruptionException(d, op + " found a damaged block in heap " + core.name()
                + " (the block has been freed)");
    }

    /**
     * The last step of a move: frees the old block, or, when that free fails for the old block itself, frees the new
     * block before rethrowing, so that a failed move leaves no block behind that the program never got. The old
     * block's free fails when its segment is in use on a downcall (its scope cannot close: the old block stays) or,
     * as a damaged block, after freeing it; a review found the new block leaked in both (2026-12-07). Damage in
     * another block, one the old block's entry pushed out of the quarantine, is not the move's: the move stands, and
     * the damage is kept for verify() and close() (a second review saw both blocks lost when it undid the move).
     *
     * @return {@code moved}
     */
    public long freeOldOrUndo(long address, long moved) {
        try {
            free(address);
            return moved;
        } catch (HeapCorruptionException e) {
            if (e.damage() != null && e.damage().address() != address) {
                keepDamage(e.damage());
                return moved;
            }
            throw undo(moved, e);
        } catch (RuntimeException e) {
            throw undo(moved, e);
        }
    }

    /** Frees the new block of a move that failed with {@code e}; @return e, to throw */
    private RuntimeException undo(long moved, RuntimeException e) {
        try {
            free(moved);
        } catch (RuntimeException f) { // damage found in a block the quarantine pushed out: reported with e
            e.addSuppressed(f);
        }
        return e;
    }

    public long usableSize(long address) {
        // In checked mode the usable size is the requested size: the bytes past it are the tail red zone.
        return RedZones.sizeOf(liveHeader(address, "usableSize", false));
    }

    // ---------------------------------------------------------------- free

    @Override
    public void free(long address) {
        free(address, false);
    }

    /**
     * Frees the block at {@code address} only when its header word is still {@code identity}, the one it had when its
     * segment was made: for the leak detector, whose free of a dropped segment's block can come after the program
     * freed that block through its raw address and a malloc handed the address out again (a block armed there since
     * has another generation). The free's compare-and-set expects {@code identity} itself: a look apart from it, a few
     * instructions before, let a program that freed the block and got the address back from a malloc in between lose
     * its new block. The free is split after its header's validation for it; an identity parameter on the hot free
     * took it past the size C2 inlines (CHECKED 16-byte pairs 1.057x slower, `BuildsInTurn`, 2026-12-07).
     *
     * @throws InvalidFreeException when the block there is another one, or is freed already
     */
    public void freeIfSame(long address, long identity) {
        core.checkOpen();
        if (!core.contains(address) || (address & 15) != 0 || !core.contains(address - RedZones.HEADER)
                || headerWord(address) != identity) {
            throw notLive(address, "free");
        }
        LocalHeap own = core.ownCache();
        long h0 = liveHeader(address, "free", false, own);
        // The header the free's compare-and-set expects, looked at again: the program may have freed the block and a
        // malloc handed the address out again since the look above (the new block has another generation)
        if (h0 != identity) throw notLive(address, "free");
        free(address, h0, own);
    }

    /** @return the header word of the live block at {@code p} (its size, front, flags and generation) */
    public long headerWord(long p) {
        return Memory.getLong(p - 16);
    }

    /** Frees the block at {@code address}: an arena's ({@link RedZones#ARENA} in its header) or, if not, any other. */
    private void free(long address, boolean arena) {
        if (address == 0) {
            core.checkOpen(); // free(0) does nothing, but on a closed heap it throws as every call does
            return;
        }
        // The thread's own cache, found once for the validation, the count and the quarantine's evictions (each
        // would find it again through the engine's public calls: five lookups a malloc/free pair, not two)
        LocalHeap own = core.ownCache();
        free(address, liveHeader(address, "free", arena, own), own);
    }

    /**
     * Frees the live block at {@code address} whose header word {@link #liveHeader} returned: {@code h0}, which the
     * compare-and-set that marks it freed expects, so that a block freed (and allocated again) since is not freed.
     */
    private void free(long address, long h0, LocalHeap own) {
        beforeRelease.accept(address);
        long size = RedZones.sizeOf(h0), front = RedZones.frontOf(h0);
        long tail = zones.tailDamage(address, size);
        if (tail >= 0) throw damaged(address, h0, size, HeapDamage.Kind.OVERFLOW, tail);
        // An aligned block's marker, the first word of its front, which verify() reads to find the block: an overflow
        // of the block before that ran past its own tail canary hit it (verify() reports it as this block's underflow,
        // and so does its free now: it went unseen there)
        long marker;
        if (front > RedZones.HEADER && (marker = zones.markerDamage(address - front, front)) >= 0) {
            throw damaged(address, h0, size, HeapDamage.Kind.UNDERFLOW, marker - front);
        }
        if (!zones.markFreed(address, h0)) {
            throw new InvalidFreeException(address, doubleFree(address, size, "a concurrent free"));
        }
        RedZones.poison(address, size);
        // The freed tail last: a block marked FREED whose tail is still the live one is being freed right now, which
        // a concurrent verify() tells by it (and does not read its half-written poison as a write after free)
        zones.freeTail(address, size);
        // After the freed tail: noting the site may wait for a lock, and a double free that meets FREED over a live
        // tail waits only a bounded time for this free to end (flagged) before it calls the block damaged
        noteFreeSite(address, h0);
        long share = quarantine.share();
        if (!Quarantine.fits(size, front, share)) {
            releaseToEngine(address, h0, false, own);
            return;
        }
        countUnseen(own, -size); // freed, for the program: no longer live while it waits
        HeapDamage d = quarantine.add(address, size, front, share, own);
        if (d != null) throw pushedOut(address, d);
    }

    /**
     * For {@link #free}: the damage of a block that the free of {@code p} pushed out of quarantine (or found in a dead
     * thread's ring on the way). That free is done, and the words say so: they named the damaged block alone, and a
     * program reading them as its free's refusal would free {@code p} again.
     */
    private HeapCorruptionException pushedOut(long p, HeapDamage d) {
        return new HeapCorruptionException(d, "free of 0x" + Long.toHexString(p) + " in heap " + core.name()
                + " done, but a freed block leaving the quarantine was found damaged");
    }

    /**
     * @return the header of the live block at {@code p}; throws InvalidFreeException for anything else (a double
     *         free names where the block was allocated and first freed when those sites were recorded), and
     *         HeapCorruptionException when the front red zone of a live block was overwritten
     */
    private long liveHeader(long p, String op, boolean arena) {
        return liveHeader(p, op, arena, null);
    }

    /**
     * {@link #liveHeader(long, String, boolean)} for the holder of {@code own}, when not null
     * ({@link HeapCore#ownCache})
     */
    private long liveHeader(long p, String op, boolean arena, LocalHeap own) {
        // Every error is built and thrown by a method of its own: with them inline this method was 363 bytes of
        // bytecode, over C2's limit for inlining a hot callee, and every checked free and realloc called it.
        core.checkOpen(); // before any read: a closed heap's range is unmapped
        if (!core.contains(p) || (p & 15) != 0 || !core.contains(p - RedZones.HEADER)) throw misplaced(p, op);
        if (!zones.headerIntact(p)) throw damagedOrNotLive(p, op, arena);
        long h0 = Memory.getLong(p - 16);
        long front = RedZones.frontOf(h0), b = p - front;
        if (!(own != null ? core.isLiveBlockOwn(own, b) : core.isLiveBlock(b)) || !headerOfItsBlock(p, front)) {
            throw notLive(p, op);
        }
        // One test for both flags: FREED must be clear, ARENA set exactly for an arena's free
        if ((h0 & (RedZones.FREED | RedZones.ARENA)) != (arena ? RedZones.ARENA : 0)) throw flagged(p, h0, op);
        return h0;
    }

    /** For {@link #liveHeader}: the block is freed already, or is (or is not) an arena's when the caller said not. */
    private RuntimeException flagged(long p, long h0, String op) {
        if ((h0 & RedZones.FREED) != 0) {
            if (zones.tailStillLive(p, RedZones.sizeOf(h0)) && freedBitOverLiveTail(p, h0)) {
                // Not freed: a stray write set the FREED bit of a live block (its tail is the live one). Left
                // allocated, as a block whose header cannot be trusted is (see damagedOrNotLive)
                long size = RedZones.sizeOf(h0);
                HeapDamage d = damage(p, RedZones.frontOf(h0), size, HeapDamage.Kind.UNDERFLOW, FREED_BYTE);
                return new HeapCorruptionException(d, op + " found a damaged block in heap " + core.name()
                        + ": its header reads freed over the tail of a live block (left allocated)");
            }
            return alreadyFreed(p, h0, op);
        }
        if ((h0 & RedZones.ARENA) != 0 && stackBlocks.contains(p)) {
            return new InvalidFreeException(p, op + " of 0x" + Long.toHexString(p) + " in heap " + core.name()
                    + ": the block of one of the heap's thread stacks (Heap.stack()), whose frames hand out the memory"
                    + " in it; not a block of the program's, the heap frees it itself");
        }
        if ((h0 & RedZones.ARENA) != 0) {
            return new InvalidFreeException(p, op + " of 0x" + Long.toHexString(p) + " in heap " + core.name()
                    + ": a segment of one of the heap's arenas (" + RedZones.sizeOf(h0) + " bytes), which its arena"
                    + " frees (Heap.free(segment) or the arena's close), not a block of the heap's own");
        }
        return new InvalidFreeException(p, "0x" + Long.toHexString(p) + " is a block of heap " + core.name()
                + ", not a segment of one of its arenas");
    }

    /** For {@link #liveHeader}: {@code p} is outside the heap or not 16-byte aligned. */
    private InvalidFreeException misplaced(long p, String op) {
        if (!core.contains(p)) {
            core.free(p); // the engine names what a foreign address is, and throws
            return new InvalidFreeException(p, op + " of 0x" + Long.toHexString(p) + ": not in heap " + core.name());
        }
        String inside = insideBlock(p);
        return new InvalidFreeException(p, op + " of 0x" + Long.toHexString(p) + " in heap " + core.name()
                + (inside != null ? ": " + inside : ": not the start of a block (blocks are 16-byte aligned)"));
    }

    /**
     * @return the words for an address inside a block of the engine's that the checked layer handed out, or null when
     *         it lies in none: the program's block it is inside (or in a red zone of), and whether that block was freed
     *         and waits in quarantine. Error paths only.
     */
    private String insideBlock(long p) {
        long b = core.liveBlockContaining(p);
        if (b == 0) return null;
        long q = zones.programAddress(b, core.requestedSize(b));
        if (q == 0 || q == p) return null; // a damaged header, or p starts the block: the callers say what it is
        long h0 = Memory.getLong(q - 16);
        long size = RedZones.sizeOf(h0);
        String block = ((h0 & RedZones.FREED) != 0 ? "freed " : "") + size + "-byte block at 0x" + Long.toHexString(q)
                + ((h0 & RedZones.ARENA) != 0 ? " (held by one of the heap's arenas or thread stacks)" : "")
                + " (offset " + (p - q) + ")";
        if (p > q && p < q + size) {
            return "inside the " + block + ", not at its start" + ((h0 & RedZones.FREED) != 0
                    ? "; the block waits in quarantine" : "");
        }
        // Past the tail canary: the engine block's rounding, which no check reads (not a red zone)
        if (p >= q + size + RedZones.TAIL) return "past the end of the " + block + ", after its red zone, not a block";
        return "in the red zone of the " + block + ", not a block";
    }

    /** For {@link #liveHeader}: the header before {@code p} does not validate. */
    private RuntimeException damagedOrNotLive(long p, String op, boolean arena) {
        long b = damagedBlockOf(p, arena);
        if (b == 0) return notLive(p, op);
        // A live block of ours whose header no longer validates: its front red zone was overwritten.
        long front = p - b;
        long size = core.requestedSize(b) - front - RedZones.TAIL;
        HeapDamage d = damage(p, front, size, HeapDamage.Kind.UNDERFLOW, frontDamage(p, size, front));
        // The header cannot say whether the block is live: its tail, found by the engine's size, does. A freed
        // block waiting in quarantine stays there (released here, its eviction would later free whatever block then
        // sits at its address); a block whose tail is damaged too is left allocated, never released on a guess.
        if (zones.tailDamage(p, size) >= 0) {
            boolean freed = zones.freedTailDamage(p, size) < 0;
            return new HeapCorruptionException(d, op + " found a damaged block in heap " + core.name() + (freed
                    ? ": a freed block waiting in quarantine, whose header was overwritten (left there)"
                    : " (left allocated: neither its header nor its tail can be trusted)"));
        }
        // An arena's block is released only by its arena: released here, the arena would later free whatever block
        // then sits at its address. Its ARENA bit is believed when the rest of the header word is intact (the damage
        // is in the check word, as an underflow of up to 8 bytes leaves it: the damage found starts at -8 or after)
        boolean arenas = (Memory.getLong(p - 16) & RedZones.ARENA) != 0 && d.offset() >= -8;
        boolean release = !op.equals("usableSize") && (arena || !arenas);
        if (release) {
            beforeRelease.accept(p);
            core.countUnseen(front + RedZones.TAIL); // the engine takes the whole request out; the program, size
            core.free(b);
            frontReleased(front);
        }
        return new HeapCorruptionException(d, op + " found a damaged block in heap " + core.name()
                + (release ? " (the block has been freed)" : ""));
    }

    /** For {@link #liveHeader}: nothing live starts at {@code p}. */
    private InvalidFreeException notLive(long p, String op) {
        String inside = insideBlock(p);
        if (inside != null) {
            return new InvalidFreeException(p, op + " of 0x" + Long.toHexString(p) + " in heap " + core.name() + ": "
                    + inside);
        }
        InvalidFreeException released = releasedEarlier(p, op);
        if (released != null) return released;
        return new InvalidFreeException(p, op + " of 0x" + Long.toHexString(p) + " in heap " + core.name()
                + ": not the start of a live block (never allocated, inside a block, or freed earlier and already"
                + " out of quarantine)");
    }

    /**
     * For {@link #notLive}: the words when the engine can tell that the memory of a block at {@code p} is free (a
     * small or medium block whose bit is free, or a free page run), as FAST names it: a block freed that left the
     * quarantine, or never waited there (too large for it), was refused as "never allocated, inside a block, or freed
     * earlier", where FAST says "already freed". A header still this layer's and marked freed makes it the program's
     * block, freed before: a double free, named with its size (its sites went with it). Null when the engine cannot
     * tell. Error path only.
     */
    private InvalidFreeException releasedEarlier(long p, String op) {
        // Its header is read only inside the reservation (mapped readable throughout): freeIfSame comes here unchecked
        if (!core.contains(p - RedZones.HEADER) || !core.contains(p) || (p & 15) != 0) return null;
        if (zones.headerIntact(p)) {
            long h0 = Memory.getLong(p - 16);
            if ((h0 & RedZones.FREED) != 0 && core.isFreeMemory(p - RedZones.frontOf(h0))) {
                String block = " of block 0x" + Long.toHexString(p) + " (" + RedZones.sizeOf(h0) + " bytes) in heap "
                        + core.name() + ": already freed";
                return new InvalidFreeException(p, (op.equals("free") ? "double free" + block + " by an earlier free"
                        : op + block) + ", and no longer in quarantine (released, or too large to wait there)");
            }
        }
        if (!core.isFreeMemory(p - RedZones.HEADER)) return null;
        return new InvalidFreeException(p, op + " of 0x" + Long.toHexString(p) + " in heap " + core.name()
                + ": not a live block: the memory there is already freed (or was never allocated)");
    }

    /** For {@link #liveHeader}: the block at {@code p}, whose header is {@code h0}, is in quarantine. */
    private InvalidFreeException alreadyFreed(long p, long h0, String op) {
        if (op.equals("free")) {
            return new InvalidFreeException(p, doubleFree(p, RedZones.sizeOf(h0), "an earlier free"));
        }
        return new InvalidFreeException(p, op + " of block 0x" + Long.toHexString(p) + " (" + RedZones.sizeOf(h0)
                + " bytes) in heap " + core.name() + ": already freed, and waiting in quarantine");
    }

    /**
     * @return the engine block whose program address is {@code p} but whose header no longer validates (an
     *         underflow), or 0 when {@code p} is not the start of any block: the nearest live engine block below
     *         {@code p} within a page must either have {@code p} as its front (16 bytes, or the aligned block's
     *         marker says so) or {@code p} lies inside it
     */
    private long damagedBlockOf(long p) {
        return damagedBlockOf(p, false);
    }

    /**
     * @param vouched {@code p} is a live arena segment's address, by its arena's word: the nearest live engine block
     *        below it is its block even when the underflow wiped the marker too (no other block starts in its front)
     */
    private long damagedBlockOf(long p, boolean vouched) {
        for (long front = RedZones.HEADER; front <= (1L << MAX_FRONT_LOG); front <<= 1) {
            long b = p - front;
            if (!core.contains(b) || !core.isLiveBlock(b)) continue;
            if (zones.programAddress(b, core.requestedSize(b)) != 0) return 0; // an intact block: p lies inside it
            if (vouched) return b;
            // A valid marker says where the block's front ends, whatever the front tried: p = b + 16 inside the front
            // of an aligned block whose header was damaged is not that block (a review saw such an invalid free
            // release the live block as a damaged block of 16-byte front)
            long marked = zones.markerFront(b);
            return (marked != 0 ? marked : RedZones.HEADER) == front ? b : 0;
        }
        return 0;
    }

    /** @return the offset from {@code p} of the lowest header byte that differs from what was written (-16..-1) */
    private long frontDamage(long p, long size, long front) {
        long found = Memory.getLong(p - 16);
        long h0 = RedZones.h0(size, Long.numberOfTrailingZeros(front)) | RedZones.generation(found)
                | found & (RedZones.FREED | RedZones.ARENA);
        long diff0 = found ^ h0, diff1 = Memory.getLong(p - 8) ^ zones.h1(p, h0);
        if (diff0 != 0) return -16 + Long.numberOfTrailingZeros(diff0) / 8;
        if (diff1 != 0) return -8 + Long.numberOfTrailingZeros(diff1) / 8;
        return -16;
    }

    private String doubleFree(long p, long size, String first) {
        StringBuilder sb = new StringBuilder("double free of block 0x").append(Long.toHexString(p)).append(" (")
                .append(size).append(" bytes) in heap ").append(core.name()).append(": already freed by ").append(first)
                .append(" and waiting in quarantine");
        SiteRecord r = record(p);
        if (r == null) {
            sb.append("; sites not recorded (Heap.builder().trackSites(1) records where every block was allocated"
                    + " and freed)");
        } else {
            sb.append("\n  allocated by thread ").append(r.thread).append('\n').append(r.site().render("    "));
            Site freed = r.freedAt();
            if (freed != null) sb.append("  first freed\n").append(freed.render("    "));
        }
        return sb.toString();
    }

    /** Remembers where a sampled block is freed, so that a double free can name it. */
    private void noteFreeSite(long p, long h0) {
        // The flag first: with sites off, SiteRecorder is never loaded, and C2 would not inline core.sites() (a method
        // whose signature names an unloaded class): a call on every free
        if (!tracksSites) return;
        SiteRecorder sites = core.sites();
        SiteRecord r = sites.get(p - RedZones.frontOf(h0));
        if (r != null) r.freedHere();
    }

    /** @return the site record of the block at {@code p} whose header is intact, or null */
    private SiteRecord record(long p) {
        SiteRecorder sites = core.sites();
        if (sites == null) return null;
        return sites.get(p - RedZones.frontOf(Memory.getLong(p - 16)));
    }

    /**
     * @return the damage, with the block's allocation site when recorded and, for a write after free, where it was
     *         freed (until 2026-12-07 only a double free named that, though a write after free is as much a dangling
     *         pointer's doing)
     */
    private HeapDamage damage(long p, long front, long size, HeapDamage.Kind kind, long offset) {
        SiteRecorder sites = core.sites();
        SiteRecord r = sites == null ? null : sites.get(p - front);
        if (r == null) return new HeapDamage(p, size, kind, offset, List.of());
        Site freed = kind == HeapDamage.Kind.WRITE_AFTER_FREE ? r.freedAt() : null;
        return new HeapDamage(p, size, kind, offset, r.site().frames(), freed == null ? List.of() : freed.frames());
    }

    /** Frees a damaged live block at once (no quarantine: its poison would prove nothing). */
    private void release(long p, long h0) {
        if (zones.markFreed(p, h0)) releaseToEngine(p, h0, false, null);
    }

    /**
     * Gives the block at {@code p} to the engine, which takes its whole request out of the live count: what the
     * program no longer counted of it (its red zones, and its size when it waited in quarantine) is put back after.
     * After, not before: a stats() between the two read the block as live again, and a heap used by several threads
     * kept that as its peak for good (a block of 4 MiB leaving quarantine read 8 MiB at a peak of 4; a review,
     * 2026-12-07); read now, the live bytes are short of the block for an instant, which no peak keeps. Through the
     * calling thread's own cache {@code own} when not null ({@link HeapCore#ownCache}).
     */
    private void releaseToEngine(long p, long h0, boolean quarantined, LocalHeap own) {
        long front = RedZones.frontOf(h0);
        long unseen = front + RedZones.TAIL + (quarantined ? RedZones.sizeOf(h0) : 0);
        if (own != null) core.freeOwn(own, p - front);
        else core.free(p - front);
        countUnseen(own, unseen);
        frontReleased(front);
    }

    /** Moves bytes out of or into the program's live count, in the calling thread's own cache {@code own} if known. */
    private void countUnseen(LocalHeap own, long delta) {
        if (own != null) own.countUnseen(delta);
        else core.countUnseen(delta);
    }

    /**
     * A block leaves quarantine: check its poison and canaries, then give it to the engine, through the evicting
     * thread's own cache {@code own} when not null ({@link HeapCore#ownCache}).
     */
    private HeapDamage evict(long p, LocalHeap own) {
        if (!zones.headerIntact(p)) return evictDamagedHeader(p);
        long h0 = Memory.getLong(p - 16);
        long size = RedZones.sizeOf(h0);
        HeapDamage d = null;
        long off = RedZones.poisonDamage(p, size);
        long front = RedZones.frontOf(h0);
        // The check word leaves the FREED bit out (the free sets it by a compare-and-set of the header word alone):
        // a quarantined block whose header reads live had that bit cleared by a write after free (a review found it
        // released without a word, 2026-12-07). Reported at the header byte that holds the bit.
        if ((h0 & RedZones.FREED) == 0) off = -16 + (Long.numberOfTrailingZeros(RedZones.FREED) >>> 3);
        if (off != -1) d = damage(p, front, size, HeapDamage.Kind.WRITE_AFTER_FREE, off);
        else if ((off = zones.freedTailDamage(p, size)) >= 0) {
            d = damage(p, front, size, HeapDamage.Kind.OVERFLOW, off);
        }
        releaseToEngine(p, h0, true, own);
        return d;
    }

    /**
     * A block leaving quarantine whose header was overwritten while it waited (a write after free): its size and
     * front are taken from the engine (a damaged size could make the poison check walk a terabyte), the damage is
     * reported, and the block is released when the engine names it; otherwise it stays allocated.
     */
    private HeapDamage evictDamagedHeader(long p) {
        long b = damagedBlockOf(p);
        if (b == 0) {
            return new HeapDamage(p, 0, HeapDamage.Kind.UNDERFLOW, -16, List.of()); // nothing to release by
        }
        long front = p - b;
        long size = core.requestedSize(b) - front - RedZones.TAIL;
        HeapDamage d = damage(p, front, size, HeapDamage.Kind.WRITE_AFTER_FREE, frontDamage(p, size, front));
        core.free(b);
        // quarantined: the program counted none of it (put back after the free, see releaseToEngine)
        core.countUnseen(front + RedZones.TAIL + size);
        frontReleased(front);
        return d;
    }

    // ---------------------------------------------------------------- whole heap

    /**
     * Walks every block, live and quarantined, and returns the damage found. Exact when no other thread uses the
     * heap; under concurrent use it checks every block that stays put during the walk: a block another thread is
     * arming, poisoning or releasing looks damaged for an instant, so what looks damaged is looked at again after the
     * walk and reported only when the second look finds the same damage under the same header (generation included);
     * a block with no header, while a placement that may be its own is under way, is not reported (it may be that
     * placement's block, live in the engine before its header is written: a page run's engine count can wait for a
     * lock, and any thread can be descheduled in between).
     * Every read stays inside the engine's block as the engine sizes it, so a header rewritten under the walk (junk or
     * poison read as a size) sends no read astray.
     */
    public List<HeapDamage> verify() {
        List<HeapDamage> found = new ArrayList<>(quarantine.takeUnreported());
        List<Look> suspects = new ArrayList<>();
        core.forEachLiveBlock(b -> {
            Look look = look(b);
            if (look != null) suspects.add(look);
        });
        // A block with no header at both looks may be one whose placement has not reached it yet: while a placement
        // that may be its own is under way (started before the first look, as its block was live then; read between
        // the two looks), such a block is left to its free, or to a later verify(), to report. A page run's or an
        // aligned block's may be any such placement; a small block's is one counted in the cache owning its slab
        boolean placing = placingRuns.get() > 0;
        for (Look first : suspects) {
            boolean placingHere = placing || first.unarmed && core.placingInSlabOf(first.block);
            Look again = look(first.block);
            if (again != null && again.sameAs(first) && !(placingHere && again.unarmed)) found.add(again.damage);
        }
        // In address order (Heap.verify's contract): the damage kept from blocks that left quarantine came first
        found.sort(Comparator.comparingLong(HeapDamage::address));
        return found;
    }

    /** Offset from the program address of the header byte that holds the {@link RedZones#FREED} bit. */
    private static final long FREED_BYTE = -RedZones.HEADER + (Long.numberOfTrailingZeros(RedZones.FREED) >>> 3);

    /**
     * How long a double free waits for a free under way (FREED set, the live tail still there: it is writing the
     * poison) before it calls the block damaged: a stray write set its FREED bit. Only a program with a double free
     * or a stray write waits, and a first free held longer (a pause) makes its double free read as that damage.
     */
    private static final long FREE_UNDER_WAY_NANOS = 50_000_000L;

    /**
     * @return whether the block at {@code p}, whose header {@code h0} has FREED set, still has its live tail once a
     *         free under way would have written the freed one: a live block whose FREED bit a stray write set
     */
    private boolean freedBitOverLiveTail(long p, long h0) {
        long size = RedZones.sizeOf(h0);
        long deadline = System.nanoTime() + FREE_UNDER_WAY_NANOS;
        while (zones.tailStillLive(p, size) && Memory.getLong(p - 16) == h0) {
            if (System.nanoTime() >= deadline) return true;
            Thread.onSpinWait();
            Thread.yield();
        }
        return false;
    }

    /**
     * Damage found in the engine block {@code block}, under the header word {@code h0} (when the header did not
     * validate, a hash of its two words: {@code unarmed}).
     */
    private record Look(long block, long h0, HeapDamage damage, boolean unarmed) {
        Look(long block, long h0, HeapDamage damage) {
            this(block, h0, damage, false);
        }

        boolean sameAs(Look o) {
            return h0 == o.h0 && damage.address() == o.damage.address() && damage.size() == o.damage.size()
                    && damage.kind() == o.damage.kind() && damage.offset() == o.damage.offset();
        }
    }

    /** @return the damage of the engine block at {@code b}, or null when it is intact or no longer live */
    private Look look(long b) {
        long limit = core.liveRequestedSize(b); // the engine's request: every read below stays within it
        if (limit < 0) return null; // freed since the walk listed it (its slab perhaps reused)
        long p = zones.programAddress(b, limit);
        if (p == 0) {
            long marked = zones.markerFront(b); // an aligned block whose marker survived
            long front = marked != 0 ? marked : RedZones.HEADER;
            long size = limit - front - RedZones.TAIL;
            if (size < 0) return null; // not a block of this layer's layout (a front larger than the block)
            long q = b + front;
            // A malloc writing its header (two words, one at a time)
            if (zones.beingArmed(q, size, Long.numberOfTrailingZeros(front))) return null;
            // Keyed by the damaged words themselves: a header being written (h0, then h1) is another one next time
            long words = Memory.getLong(q - 16) * 31 + Memory.getLong(q - 8);
            return new Look(b, words, damage(q, front, size, HeapDamage.Kind.UNDERFLOW, frontDamage(q, size, front)),
                    true);
        }
        long h0 = Memory.getLong(p - 16); // read once, and checked against its check word again
        if (Memory.getLong(p - 8) != zones.h1(p, h0)) return null; // rewritten since: the block did not stay put
        long size = RedZones.sizeOf(h0);
        long front = RedZones.frontOf(h0);
        if (p - b != front || front + size + RedZones.TAIL > limit) return null; // another block's header by now
        boolean freed = (h0 & RedZones.FREED) != 0;
        // Being freed now (its poison not all written), or a live block whose FREED bit a stray write set (the check
        // word leaves that bit out): verify() cannot tell the two apart without waiting on a clock, which would call
        // a correct program's free damaged whenever a pause held it that long; the block's own free reports it
        if (freed && zones.tailStillLive(p, size)) return null;
        HeapDamage.Kind kind = HeapDamage.Kind.WRITE_AFTER_FREE;
        long off = freed ? RedZones.poisonDamage(p, size) : -1;
        if (off < 0) {
            kind = HeapDamage.Kind.OVERFLOW;
            off = freed ? zones.freedTailDamage(p, size) : zones.tailDamage(p, size);
            if (!freed && off >= 0 && zones.freedTailDamage(p, size) < 0) {
                // A block in quarantine (a free writes its freed tail after the FREED bit) whose header reads live: a
                // write after free cleared that bit, as its eviction reports it, not an overflow of its tail
                kind = HeapDamage.Kind.WRITE_AFTER_FREE;
                off = FREED_BYTE;
            }
        }
        if (off < 0 && front > RedZones.HEADER && (off = zones.markerDamage(b, front)) >= 0) {
            // The marker at the start of an aligned block's front (an overflow of the block before ran into it)
            kind = HeapDamage.Kind.UNDERFLOW;
            off -= front;
        }
        if (off == -1 || Memory.getLong(p - 16) != h0) return null; // intact, or freed or rearmed while we looked
        return new Look(b, h0, damage(p, front, size, kind, off));
    }

    /**
     * Gives the blocks that dead threads left in quarantine back to the engine (damage found in them is reported by
     * the next {@link #verify()} or {@link #drainQuarantine()}).
     */
    public void reapDeadThreads() {
        quarantine.reapAll();
    }

    /** Keeps damage found where no program call could throw it (a cleaner's thread), for verify() and close(). */
    public void keepDamage(HeapDamage d) {
        quarantine.keep(List.of(d));
    }

    /**
     * Lets the blocks the calling thread may release leave quarantine now, checked as they leave (its own ring, the
     * virtual threads' stripes, dead threads' rings), for {@code trim()}; damage found is kept for verify().
     */
    public void releaseQuarantine() {
        quarantine.releaseOwn();
    }

    /** Releases every quarantined block to the engine; returns the damage found in them. */
    public List<HeapDamage> drainQuarantine() {
        return quarantine.drain();
    }

    /**
     * For a leak report: the live block of the program at engine address {@code b} (a sampled block's record), as the
     * program knows it, or null when none is there now (freed: in quarantine, or given back since the report copied
     * its record, when its memory may read as anything, zeros once its pages went back). A block whose header was
     * overwritten is named as verify() names it: at its front (the aligned block's marker, else the header's 16 bytes),
     * with the engine's request less the red zones as its size; never at {@code b}, which the program never saw.
     *
     * @return {program address, program size}, or null
     */
    public long[] programBlock(long b) {
        long limit = core.liveRequestedSize(b); // every read below stays within the block as the engine sizes it
        if (limit < 0) return null;
        long p = zones.programAddress(b, limit);
        if (p != 0) {
            long h0 = Memory.getLong(p - 16);
            return (h0 & RedZones.FREED) != 0 ? null : new long[] {p, RedZones.sizeOf(h0)};
        }
        long marked = zones.markerFront(b);
        long front = marked != 0 ? marked : RedZones.HEADER;
        long size = limit - front - RedZones.TAIL;
        // Not this layer's layout, or a block in quarantine (its tail, found by the engine's size, is the freed one)
        if (size < 0 || zones.freedTailDamage(b + front, size) < 0) return null;
        return new long[] {b + front, size};
    }

    /** @return the engine address of the live block at program address {@code p} (validated by the caller) */
    public long engineAddress(long p) {
        return p - RedZones.frontOf(Memory.getLong(p - 16));
    }

    /**
     * For a segment from {@code allocate} whose scope is closed: the refusal of {@code op} ("free" or "realloc") when its
     * block, at {@code p}, waits in quarantine, freed earlier: a double free, worded as {@link #free} words one (the
     * block, its size, and where it was allocated and first freed when recorded). Null when it does not (out of
     * quarantine, an arena's or a stack's, not a block): the caller words those. Changes nothing, and reads a header
     * only inside the reservation, as {@link #liveHeader} does.
     */
    public InvalidFreeException freedEarlier(long p, String op) {
        if (core.isClosed() || !core.contains(p) || (p & 15) != 0 || !core.contains(p - RedZones.HEADER)) return null;
        if (!zones.headerIntact(p)) return null;
        long h0 = Memory.getLong(p - 16);
        if ((h0 & (RedZones.FREED | RedZones.ARENA)) != RedZones.FREED) return null;
        return headsALiveBlock(p, h0) ? alreadyFreed(p, h0, op) : null;
    }

    /**
     * @return whether a live block (the program's, or an arena's or a stack's) starts at program address {@code p}, not
     *         in quarantine; never throws, and reads a header only inside the reservation, as {@link #liveHeader} does
     */
    public boolean startsLiveBlock(long p) {
        if (core.isClosed() || !core.contains(p) || (p & 15) != 0 || !core.contains(p - RedZones.HEADER)) return false;
        if (!zones.headerIntact(p)) return false;
        long h0 = Memory.getLong(p - 16);
        return (h0 & RedZones.FREED) == 0 && headsALiveBlock(p, h0);
    }

    /** @return whether the intact header {@code h0} before {@code p} is the one of a live engine block's */
    private boolean headsALiveBlock(long p, long h0) {
        long front = RedZones.frontOf(h0);
        return core.isLiveBlock(p - front) && headerOfItsBlock(p, front);
    }

    /**
     * @return whether the intact header before {@code p}, whose front is {@code front}, is the header of the live
     *         engine block at {@code p - front}, not a stale one: a freed aligned block's header stays in memory that
     *         a smaller block starting at {@code p - front} reuses, where that block never wrote (fuzz campaign,
     *         checked-small-res seed 9102; CheckedStaleAlignedHeaderTest). A front of 16 needs no look: a block at
     *         {@code p - 16} with a larger front wrote its marker over the old header word.
     */
    private boolean headerOfItsBlock(long p, long front) {
        if (front == RedZones.HEADER) return true;
        long b = p - front;
        return zones.programAddress(b, core.requestedSize(b)) == p;
    }

    /**
     * @return the engine's figures seen from the program: quarantined blocks counted as freed, and the red zones of
     *         the live blocks (fronts and tails) out of the free bytes, as the blocks' rounding is: bytes of a block's
     *         until it is freed, which no malloc can have (counted free, a CHECKED heap holding one block, nothing
     *         freed, read an external fragmentation of 1.0). A quarantined block is free to the program, its red zones
     *         with it. The live bytes and their peak are the program's already: the engine's live count never held the
     *         red zones, fronts and quarantined blocks ({@link HeapCore#countUnseen})
     */
    public HeapStats adjust(HeapStats s) {
        long[] q = quarantine.heldCharged(); // {blocks, program bytes, charged bytes}
        long live = s.liveBytes();
        long peak = s.peakLiveBytes();
        // Every engine block is one of this layer's, its front and tail HEADER + TAIL bytes but for aligned fronts; the
        // quarantined blocks' red zones are what the quarantine charges beyond their program bytes. Racy sums of
        // counters other threads change, exact when they are quiescent
        long engineZones = s.liveBlocks() * (RedZones.HEADER + RedZones.TAIL) + alignedFronts.sum();
        long redZones = Math.max(0, engineZones - (q[2] - q[1]));
        long free = Math.max(0, s.freeBytes() - redZones);
        return new HeapStats(live, peak, s.committedBytes(), s.peakCommittedBytes(), s.reservedBytes(), s.mallocCount(),
                s.freeCount() + q[0], free, s.largestFreeBlock(), s.retainedBytes(),
                s.purgeCount(), s.threadCaches(), s.residentBytes(), s.metadataBytes(), s.peakFootprintBytes());
    }
}
