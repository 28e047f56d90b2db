package org.malloc4j;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.ref.Reference;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import org.malloc4j.internal.BlockAllocator;
import org.malloc4j.internal.HeapCore;
import org.malloc4j.internal.arena.ArenaRegistry;
import org.malloc4j.internal.arena.ConfinedHeapArena;
import org.malloc4j.internal.arena.SharedHeapArena;
import org.malloc4j.internal.checked.CheckedHeap;
import org.malloc4j.internal.monitor.Monitoring;
import org.malloc4j.internal.sites.LeakCollector;
import org.malloc4j.internal.sites.SegmentWatch;
import org.malloc4j.internal.sites.SiteRecord;
import org.malloc4j.internal.sites.SiteRecorder;
import org.malloc4j.internal.small.LocalHeap;
import org.malloc4j.internal.small.SizeClasses;
import org.malloc4j.internal.stack.StackRegistry;

/**
 * A manual heap of native memory: {@code malloc}, {@code free}, {@code realloc}, {@code calloc} and aligned
 * allocation, in pure Java on the Foreign Function and Memory API.
 *
 * <p><b>Memory.</b> A heap reserves a range of address space once and commits pages as blocks need them.
 * Blocks up to 256 KiB come from size-class slabs cached per thread; larger ones are page runs found in
 * bounded time (TLSF) and coalesced on free. Freed pages go back to the OS after the decay time, at once for
 * blocks of at least the release threshold (unless the program frees and allocates such blocks in a loop), and on
 * {@link #trim()}. No heap metadata is stored in user blocks.
 *
 * <p><b>Contract.</b> As C's: every block is 16-byte aligned; {@code malloc(0)} returns a unique address that can
 * be freed; {@code free(0)} does nothing; {@code realloc(0, n)} is {@code malloc(n)}; {@code realloc(p, 0)}
 * frees {@code p} and returns 0. Unlike C, every free is validated: an address that is not the start of a live
 * block of this heap gets an {@link InvalidFreeException} and the heap is left as it was. Bad sizes and
 * alignments get an {@link IllegalArgumentException} naming the value; a request the limit or the OS cannot
 * meet gets a {@link HeapExhaustedException} and the heap stays usable.
 *
 * <p><b>Threads.</b> All methods are thread-safe. Any thread may free any block. {@link #close()} must not race
 * with other calls on the same heap: every call of another thread must have returned before {@code close()} begins
 * (a join, a latch), as every access to the heap's blocks must. A call that overlaps it is not detected, which would
 * cost every malloc and free a fence: it may return an address the closed heap no longer maps, and it (calloc's
 * zeroing, realloc's copy, CHECKED mode's red zones) or the program's next access may crash the JVM. Only the
 * figures ({@link #stats()}, {@link #snapshot()}, {@link #trim()}, the MBean, JFR) may race it: they throw
 * {@link IllegalStateException} once it has closed the heap. One double free is not caught in FAST mode: the same
 * block freed at the same instant by the thread whose cache holds it (the one that allocated it) and by another
 * thread, since the owner's free takes no fence; both may return (the block is then free once, and handed out once).
 * {@link HeapMode#CHECKED} catches it.
 *
 * <p>Raw addresses are the fastest interface; {@link #allocate(long, long)} wraps a block in a
 * {@link MemorySegment} of exactly the requested size, so that the JDK checks every access against its bounds.
 *
 * <p><b>Diagnostics.</b> {@link HeapMode#CHECKED} adds red zones, junk and poison fills, a quarantine and per-block
 * segment scopes ({@link #verify()} walks them all); {@link Builder#trackSites(double)} records where blocks are
 * allocated, for {@link #leaks()}, for the report {@link #close()} gives of blocks still live, and for segments the
 * program drops without freeing. A heap is a JMX MBean ({@link HeapMXBean}; see {@link Builder#jmx(boolean)}) and
 * emits JFR events ({@code org.malloc4j.*}: large allocations, purges, exhaustion, leaks, periodic statistics).
 */
public final class Heap implements SegmentAllocator, AutoCloseable {
    private static final AtomicInteger IDS = new AtomicInteger();

    private static final System.Logger LOG = System.getLogger("org.malloc4j");

    private final HeapCore core;
    /**
     * The heap's first thread and its cache (FAST mode; null in CHECKED mode, before the first malloc, after the
     * thread died and after close): malloc and free of that thread go straight to the cache from here. A malloc
     * reached through {@code checked}, {@code core}, its open flag, its table of caches and the cache's kind read
     * five dependent fields and took four branches before the first one of the allocation itself; when the caller's
     * loop lets C2 hoist none of them (any loop that reads a volatile, JMH's among them: a 16-byte pair 5.6 ns in a
     * bare loop, 14.6 ns with a volatile read in it), that was 3 ns a pair. Written under the caches' registry lock
     * (by the first thread itself, or by the thread that retires it); read racily: only the first thread can find
     * {@code fastThread} equal to itself, and it wrote {@code fastCache} before. {@link #close()} clears it first.
     */
    private Thread fastThread;
    private LocalHeap fastCache;
    /**
     * Where every other platform thread finds its cache by its id ({@code ThreadCaches.doors}, the caches' own table;
     * in CHECKED mode a table of its own that stays empty): a compare with the slot's thread ({@link #doorThreads})
     * and a load of the slot's cache, then the same straight path as the first thread's. A thread whose slot holds another thread's cache, or
     * nothing (a virtual thread, a thread before its first malloc, any thread after close, which empties the table),
     * takes the general path.
     */
    private final LocalHeap[] doors;
    /** The thread of each cache in {@link #doors}, slot for slot: compared first, so that no other cache is read. */
    private final Thread[] doorThreads;
    /** The CHECKED layer, or null in FAST mode: every entry point tests it once. */
    private final CheckedHeap checked;
    /** Per-block segment scopes (CHECKED) and GC-assisted leak detection (sampled sites); null when neither. */
    private final SegmentWatch watch;
    private final boolean global;
    private final boolean failOnLeak;
    private final boolean reclaimLeaks;
    /**
     * Held by {@link #close()} and by a cleaner's thread while it reports (and frees) an unreachable block, so that
     * the two never overlap: the cleaner runs on the heap's behalf, where any other thread racing close is the
     * program's own mistake.
     */
    private final ReentrantLock closeGate = new ReentrantLock();
    private final boolean reportLeaks;
    private final ArenaRegistry arenas = new ArenaRegistry();
    private final StackRegistry stacks;
    /** The heap's MBean name (a {@code javax.management.ObjectName}), or null when it is not registered. */
    private final Object mbean;

    private Heap(Builder b, boolean global) {
        Monitoring.check(b.jmx); // before the core reserves address space, so that a refusal leaves nothing behind
        this.core = new HeapCore(b.name != null ? b.name : "heap-" + IDS.incrementAndGet(), b.reserve, b.limit,
                b.decay.toNanos(), b.releaseThreshold, b.siteRate, b.spareBytes, b.clock);
        try {
            // Under CHECKED, the checked layer tells JFR in the program's terms (its address and size, its refusals)
            core.largeEventBytes(b.mode == HeapMode.CHECKED ? Long.MAX_VALUE : b.largeAllocationEvent);
            core.reportExhaustion(b.mode != HeapMode.CHECKED);
            core.pageGathering(b.pageGathering);
            // A block's own segment scope is closed once its free is known to be valid, just before it is released.
            this.checked = b.mode == HeapMode.CHECKED
                    ? new CheckedHeap(core, b.quarantine, this::closeScope, b.largeAllocationEvent) : null;
            this.watch = checked != null || b.siteRate > 0 ? new SegmentWatch(this::unreachable) : null;
            this.global = global;
            this.failOnLeak = b.failOnLeak;
            this.reclaimLeaks = b.reclaimLeaks;
            this.reportLeaks = b.failOnLeak || b.siteRate > 0 || checked != null;
            BlockAllocator blocks = checked != null ? checked : core;
            this.stacks = new StackRegistry(blocks, HeapStack.DEFAULT_SIZE,
                    checked != null ? checked::keepDamage : damage -> {}); // FAST finds no damage
            core.beforeRefusal(stacks::releaseIdle); // ended threads' stack blocks, idle ones: back before a refusal
            if (checked == null) core.beforeSmallRefusal(stacks::releaseIdleNow); // CHECKED's own retry takes them
            if (checked == null) core.onPrimaryCache(this::primaryCache);
            this.doors = checked == null ? core.threadDoors() : new LocalHeap[core.threadDoors().length];
            this.doorThreads = checked == null ? core.threadDoorOwners() : new Thread[doors.length];
            this.mbean = Monitoring.open(this, core.label(), b.jmx); // last: the heap is whole when JMX or JFR reads it
        } catch (RuntimeException | Error e) {
            // No heap (its MBean refused, say: an MBean server that cannot be made): the core gives back its range,
            // its page map, its label and its place among the open heaps, which nobody could close otherwise
            try {
                core.close();
            } catch (RuntimeException | Error closing) {
                e.addSuppressed(closing); // the build's own failure is the one to tell
            }
            throw e;
        }
    }

    /** The heap's first thread's cache, or null when it is retired: see {@link #fastThread}. */
    private void primaryCache(LocalHeap cache) {
        if (cache == null) {
            fastThread = null;
            fastCache = null;
        } else {
            fastCache = cache;
            fastThread = cache.thread;
        }
    }

    private BlockAllocator blocks() {
        return checked != null ? checked : core;
    }

    /** {@return a new heap with the default settings (see {@link Builder})} */
    public static Heap create() {
        return builder().build();
    }

    /** {@return a builder for a heap with settings of one's own} */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * {@return the process-wide heap: created on first use, never closed} Being open for good, it keeps this library's
     * class loader reachable for the rest of the process: a program that loads the library in a loader of its own and
     * wants it unloaded (a web application) builds heaps of its own and closes them all instead.
     */
    public static Heap global() {
        return Global.HEAP;
    }

    private static final class Global {
        static final Heap HEAP = new Heap(builder().name("global").reserve(256L << 30), true);
    }

    /**
     * Allocates a block of at least {@code size} bytes, 16-byte aligned, with undefined contents.
     *
     * @param size bytes, 0 or more
     * @return the block's address, never 0
     * @throws IllegalArgumentException if {@code size} is negative
     * @throws HeapExhaustedException if the limit or the OS does not allow it
     * @throws IllegalStateException if the heap is closed
     */
    public long malloc(long size) {
        if (size <= SizeClasses.MAX_CACHED && size >= 0) {
            LocalHeap own = ownCache(Thread.currentThread());
            if (own != null) return core.mallocOwn(own, size);
        }
        CheckedHeap c = checked;
        return c == null ? core.malloc(size) : c.malloc(size);
    }

    /**
     * @return the calling platform thread's cache when it has a door ({@link #fastThread}, or its slot of
     *         {@link #doors}), else null. One method for both doors, so that malloc and free each have one call of the
     *         engine's fast path: with a call for each door, C2 inlined only the one its profile had seen taken when it
     *         compiled the caller (the first thread's, in a program whose other threads start later), and every malloc
     *         and free of the other threads was a call ({@code -XX:+PrintInlining}: "callee is too large"). The lookup of
     *         {@code ThreadCaches.ownCacheOf}, made from this object's own fields: through the core and its table it read
     *         two more dependent fields a call.
     */
    private LocalHeap ownCache(Thread t) {
        if (fastThread == t) return fastCache;
        int slot = (int) t.threadId() & (doors.length - 1);
        LocalHeap door = doors[slot];
        return doorThreads[slot] == t ? door : null;
    }

    /**
     * Allocates a zeroed block of {@code count * size} bytes. Pages that the OS gives zeroed are not zeroed again.
     *
     * @param count number of elements, 0 or more
     * @param size bytes per element, 0 or more
     * @return the zeroed block's address, never 0
     * @throws IllegalArgumentException if either argument is negative or their product overflows
     * @throws HeapExhaustedException if the limit or the OS does not allow it
     */
    public long calloc(long count, long size) {
        CheckedHeap c = checked;
        return c == null ? core.calloc(count, size) : c.calloc(count, size);
    }

    /**
     * Resizes a block, keeping {@code min(old size, newSize)} bytes of its contents, the old size being its
     * {@link #usableSize} (every byte the program was told it may use); grows or shrinks in place when it can,
     * otherwise moves it. {@code realloc(0, n)} is {@code malloc(n)}; {@code realloc(p, 0)} frees
     * {@code p} and returns 0. When a move fails for lack of memory, the old block is left untouched. A block that
     * moves is aligned as {@link #malloc}'s are (16 bytes), as in C: one from {@link #alignedAlloc} keeps a larger
     * alignment only while it stays in place (to keep it, reallocate a segment with its alignment, or take a new
     * aligned block and copy).
     *
     * @return the block's (possibly new) address
     * @param address a live block of this heap, or 0
     * @param newSize bytes, 0 or more
     * @throws InvalidFreeException if {@code address} is not a live block of this heap
     * @throws IllegalArgumentException if {@code newSize} is negative
     * @throws HeapExhaustedException if the block must move and the heap cannot hold the new one
     * @throws HeapCorruptionException in {@link HeapMode#CHECKED} mode, when the block's red zones were overwritten
     *         (the message starts "realloc found a damaged block"; freed all the same unless it says it was left
     *         allocated, and no new block is taken)
     */
    public long realloc(long address, long newSize) {
        CheckedHeap c = checked;
        if (c == null) return core.realloc(address, newSize);
        return c.realloc(address, newSize);
    }

    /**
     * Allocates a block of {@code size} bytes whose address is a multiple of {@code alignment}.
     *
     * @param alignment a power of two, at most half the heap's reservation (32 GiB with the default
     *        {@link Builder#reserve(long) reserve}; 8 MiB on a heap reserving 16 MiB)
     * @param size bytes, 0 or more
     * @return the block's address, a multiple of {@code alignment}
     * @throws IllegalArgumentException if {@code alignment} is not a power of two or is more than half the heap's
     *         reservation, or {@code size} is negative
     */
    public long alignedAlloc(long alignment, long size) {
        CheckedHeap c = checked;
        return c == null ? core.alignedAlloc(alignment, size) : c.alignedAlloc(alignment, size);
    }

    /**
     * Frees a block. {@code free(0)} does nothing.
     *
     * @param address a live block of this heap, or 0
     * @throws InvalidFreeException if {@code address} is not the start of a live block of this heap (never
     * allocated, inside a block, already freed, or another heap's); nothing is changed
     * @throws HeapCorruptionException in {@link HeapMode#CHECKED} mode, when the block's red zones were overwritten
     *         (freed all the same unless the message says it was left allocated), or when the free, done, pushed a
     *         damaged block out of the quarantine (the message starts "free of 0x... done")
     */
    public void free(long address) {
        LocalHeap own = ownCache(Thread.currentThread());
        if (own != null) {
            core.freeOwn(own, address);
            return;
        }
        CheckedHeap c = checked;
        if (c == null) {
            core.free(address);
            return;
        }
        c.free(address);
    }

    /**
     * Returns the number of bytes usable in a block: at least the size asked for (exactly that size in
     * {@link HeapMode#CHECKED} mode, where the bytes past it are a red zone).
     *
     * @param address a live block of this heap
     * @return the usable bytes
     * @throws InvalidFreeException if {@code address} is not a live block of this heap
     */
    public long usableSize(long address) {
        CheckedHeap c = checked;
        return c == null ? core.usableSize(address) : c.usableSize(address);
    }

    /**
     * Allocates a block and returns it as a native segment of exactly {@code byteSize} bytes, so that accesses
     * are bounds-checked. Free it with {@link #free(MemorySegment)}.
     *
     * <p>In {@link HeapMode#CHECKED} mode the segment has a scope of its own, closed when the block is freed: any
     * later access through it, or a slice of it, throws {@link IllegalStateException}. When the block's site is
     * recorded ({@link Builder#trackSites(double)}), or in CHECKED mode, a block whose segments all become
     * unreachable before it is freed is reported as a leak (and freed, with {@link Builder#reclaimLeaks(boolean)}).
     *
     * @throws IllegalArgumentException if {@code byteSize} is negative or {@code byteAlignment} is not a power of two
     *         or is more than half the heap's reservation
     */
    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        if (byteSize < 0) throw core.badArgument("byteSize must be non-negative: " + byteSize);
        if (byteAlignment <= 0 || (byteAlignment & (byteAlignment - 1)) != 0) {
            throw core.badArgument("byteAlignment must be a power of two: " + byteAlignment);
        }
        long address = byteAlignment <= 16 ? malloc(byteSize) : alignedAlloc(byteAlignment, byteSize);
        return segmentOf(address, byteSize);
    }

    /** The segment {@link #allocate} and {@link #reallocate} return for the live block at {@code address}. */
    private MemorySegment segmentOf(long address, long byteSize) {
        if (watch == null) return MemorySegment.ofAddress(address).reinterpret(byteSize);
        SiteRecorder sites = core.sites();
        if (checked != null) {
            SiteRecord r = sites == null ? null : sites.get(checked.engineAddress(address));
            return watch.scoped(address, byteSize, r, checked.headerWord(address));
        }
        SiteRecord r = sites.get(address);
        if (r == null) return MemorySegment.ofAddress(address).reinterpret(byteSize);
        return watch.watched(address, address, byteSize, r, sites);
    }

    private void closeScope(long address) {
        if (!watch.isEmpty()) watch.close(address);
    }

    /**
     * A block whose segments the program dropped without freeing it. Runs on a cleaner's thread, which the heap
     * started and the program cannot order with its own calls: {@link #closeGate} keeps {@link #close()} from giving
     * the memory back while this frees the block.
     */
    private void unreachable(long address, long bytes, SiteRecord record, long identity) {
        boolean reclaim = reclaimLeaks;
        HeapCorruptionException damage = null;
        closeGate.lock();
        try {
            if (core.isClosed()) return; // close() reported what was still live
            // Looked at again under the gate: the program may have freed the block through its raw address since the
            // cleanup looked, and a malloc may have handed the address out again (a free here would take that block)
            SiteRecorder sites = core.sites();
            if (record != null && sites != null && sites.get(record.address) != record) return;
            if (reclaim) {
                try {
                    // CHECKED: only the block the segment was made for, told by its header word (a block at the
                    // same address since has another generation), checked by the free's own compare-and-set: with
                    // no site record, a review saw the reclaim free the program's new block there (2026-12-07)
                    if (checked != null && identity != 0) checked.freeIfSame(address, identity);
                    else if (checked == null && record != null) {
                        if (!core.freeIfRecorded(address, record)) return; // freed meanwhile: nothing leaked
                    } else free(address);
                } catch (InvalidFreeException e) {
                    return; // freed meanwhile through its raw address: nothing leaked after all
                } catch (HeapCorruptionException e) {
                    // CHECKED: the block (freed all the same) or one that its free pushed out of the quarantine was
                    // damaged. No program call is there to throw to: verify() and close() report it.
                    damage = e;
                    checked.keepDamage(e.damage());
                }
            }
        } finally {
            closeGate.unlock();
        }
        String text = "leak in heap " + core.name() + ": the segment of block 0x" + Long.toHexString(address)
                + " became unreachable while the block was live" + (reclaim ? " (the heap freed it)" : "")
                + (record == null ? "; allocation site not recorded\n"
                        : ", allocated by thread " + record.thread + "\n" + record.site().render("    "))
                + (damage == null ? "" : "its free found damage (kept for verify()): " + damage.getMessage() + "\n");
        LOG.log(System.Logger.Level.WARNING, text);
        Monitoring.leak(core.label(), "unreachable", 1, bytes, reclaim, text);
    }

    /**
     * Frees the block behind a segment obtained from {@link #allocate(long, long)}.
     *
     * @param segment a segment from {@link #allocate(long, long)} or one of this heap's arenas
     * @throws InvalidFreeException if the segment does not start at a live block of this heap
     * @throws IllegalStateException if the heap is closed
     */
    public void free(MemorySegment segment) {
        Objects.requireNonNull(segment, "segment");
        core.checkOpen();
        if (!segment.isNative()) {
            throw new InvalidFreeException(0, "a heap segment cannot be freed: " + segment);
        }
        // A segment of one of this heap's arenas: its arena forgets it and frees its block, if it has one of its own
        // (0 here); else the segment's own address, the heap block to free.
        MemorySegment.Scope scope = segment.scope();
        long block = arenas.release(scope, segment.address());
        if (block == 0) return;
        if (!scope.isAlive()) throw closedScope(block, "free");
        try {
            free(block);
        } finally {
            // Reachable until the block is freed: compiled, the last use came before, and a collection then let the
            // scope's cleanup reclaim the block as a leak under this free (SegmentInUseIsNoLeakTest)
            Reference.reachabilityFence(scope);
        }
    }

    /**
     * @return the refusal of {@code op} ("free" or "realloc") of a segment whose scope is closed, saying whether it is
     *         this heap's memory and whether a live block starts at its address; in CHECKED mode, a segment from
     *         {@link #allocate} whose block waits in quarantine is refused as the double free it is, with the block's
     *         size and sites
     */
    private InvalidFreeException closedScope(long address, String op) {
        // Not this heap's memory at all (a closed arena of the JDK's, or another heap's segment): said as such, not as
        // a block of this heap's already freed
        if (!core.contains(address)) return core.notFromThisHeap(address);
        InvalidFreeException doubleFree = checked != null ? checked.freedEarlier(address, op) : null;
        if (doubleFree != null) return doubleFree;
        boolean live = checked != null ? checked.startsLiveBlock(address) : core.isLiveBlock(address);
        return ArenaRegistry.closedScope(address, core.name(), live);
    }

    /**
     * Resizes the block behind a segment from {@link #allocate(long, long)}, as {@link #realloc} does a raw block:
     * keeps {@code min(segment.byteSize(), newByteSize)} bytes of its contents, grows or shrinks in place when it can,
     * else moves it, and returns a segment of exactly {@code newByteSize} bytes over the block, 16-byte aligned. The
     * old segment must not be used afterwards (in {@link HeapMode#CHECKED} mode any access through it throws
     * {@link IllegalStateException}). Unlike {@code realloc}, a size of 0 does not free the block: the result is a
     * segment of 0 bytes over a live block, to be freed with {@link #free(MemorySegment)} as any other (C leaves
     * {@code realloc(p, 0)} to the implementation: glibc frees {@code p}, as {@link #realloc} does; musl and the BSDs
     * return a minimal block, as this does). That is a shrink like any other: it needs no memory, and stays in place
     * when a heap at its limit refuses its move. As
     * {@code realloc(0, n)} is {@code malloc(n)}, a segment at address 0 ({@link MemorySegment#NULL}) gets a new block.
     *
     * @param segment a live segment from {@link #allocate(long, long)} of this heap, or one at address 0
     * @param newByteSize bytes, 0 or more
     * @return a segment of exactly {@code newByteSize} bytes over the resized block
     * @throws InvalidFreeException if the segment does not start at a live block of this heap (freed, another heap's,
     *         a heap segment, or a segment of one of this heap's arenas, which belongs to its arena); nothing is changed
     * @throws IllegalArgumentException if {@code newByteSize} is negative
     * @throws HeapExhaustedException if the block must grow past its usable bytes and the heap cannot hold the new
     *         one (a shrink, which needs no memory, stays in place instead); the old segment and its contents are
     *         then left as they were
     * @throws HeapCorruptionException in {@link HeapMode#CHECKED} mode, when the block's red zones were overwritten,
     *         as {@link #realloc} throws it
     */
    public MemorySegment reallocate(MemorySegment segment, long newByteSize) {
        return reallocate(segment, newByteSize, 16);
    }

    /**
     * As {@link #reallocate(MemorySegment, long)}, with the block's address a multiple of {@code byteAlignment}
     * afterwards. A block whose address is such a multiple resizes as {@code reallocate(segment, n)} resizes it: in
     * place where it can, and a shrink whose move is refused stays in place. Otherwise it moves: a new block with that
     * alignment, the contents copied, the old block freed.
     *
     * @param segment a live segment from {@link #allocate(long, long)} of this heap, or one at address 0
     * @param newByteSize bytes, 0 or more
     * @param byteAlignment a power of two
     * @return a segment of exactly {@code newByteSize} bytes over the resized block, at a multiple of
     *         {@code byteAlignment}
     * @throws IllegalArgumentException if {@code byteAlignment} is not a power of two or is more than half the heap's
     *         reservation, or {@code newByteSize} is negative
     */
    public MemorySegment reallocate(MemorySegment segment, long newByteSize, long byteAlignment) {
        Objects.requireNonNull(segment, "segment");
        core.checkOpen();
        if (newByteSize < 0) throw new IllegalArgumentException("newByteSize must be non-negative: " + newByteSize);
        if (byteAlignment <= 0 || (byteAlignment & (byteAlignment - 1)) != 0) {
            throw new IllegalArgumentException("byteAlignment must be a power of two: " + byteAlignment);
        }
        // Before the block resizes in place, which an address aligned by chance to a larger alignment would allow
        core.checkAlignment(byteAlignment);
        if (!segment.isNative()) {
            throw new InvalidFreeException(0, "a heap segment cannot be reallocated: " + segment);
        }
        long address = segment.address();
        if (address == 0) return allocate(newByteSize, byteAlignment); // realloc(NULL, n) is malloc(n), as in C
        if (arenas.owns(segment.scope())) {
            throw new InvalidFreeException(address, "0x" + Long.toHexString(address) + " is a segment of an arena of"
                    + " heap " + core.name() + ": it belongs to its arena, which cannot resize it; allocate a new one");
        }
        if (!segment.scope().isAlive()) throw closedScope(address, "realloc");
        try {
            return reallocateBlock(segment, address, newByteSize, byteAlignment);
        } finally {
            // Reachable until the new segment watches the block: compiled, the last use came above, and a collection
            // during the move let the old segment's cleanup reclaim the block as a leak under this call: its free
            // then threw "already freed" (SegmentInUseIsNoLeakTest)
            Reference.reachabilityFence(segment);
        }
    }

    /** {@link #reallocate(MemorySegment, long, long)} of the live block at {@code address}, validated as a segment. */
    private MemorySegment reallocateBlock(MemorySegment segment, long address, long newByteSize, long byteAlignment) {
        long moved;
        if (byteAlignment <= 16) {
            // Validates the block, and leaves it as it was when it cannot move. A size of 0 keeps a block, a shrink
            // that stays in place when its move is refused (a move to a malloc(0) block was refused at the limit)
            moved = checked != null ? checked.reallocKeepingEmpty(address, newByteSize)
                    : core.reallocKeepingEmpty(address, newByteSize);
        } else {
            // In place where the block's address has the alignment and realloc would keep it there (CHECKED: only
            // when a shrink's move is refused), else moved to a block with the alignment
            moved = checked != null ? checked.reallocAligned(address, newByteSize, byteAlignment)
                    : core.reallocAligned(address, newByteSize, byteAlignment);
        }
        return segmentOf(moved, newByteSize);
    }

    /**
     * Opens an arena confined to the calling thread, like {@link Arena#ofConfined()}, whose segments are memory of
     * this heap. {@code allocate(byteSize, byteAlignment)} returns a segment of exactly {@code byteSize} bytes with
     * that alignment, contents not initialized (the JDK's arenas zero theirs), bound to the arena's scope: once the
     * arena is closed, accessing it throws {@link IllegalStateException}. A segment can be freed before the arena
     * closes with {@link #free(MemorySegment)}; {@link Arena#close()} frees everything still held, in time
     * proportional to the arena's chunks and blocks, never to the heap.
     *
     * <p>Only the calling thread may allocate, free early, close, or access the segments
     * ({@link WrongThreadException} otherwise). Closing twice throws {@link IllegalStateException}, as the JDK's
     * arenas do.
     *
     * <p><b>Memory.</b> Segments of up to 4 KiB aligned to at most 256 bytes are carved from chunks of this heap (4
     * KiB for the first, doubling to 64 KiB) by bumping a pointer; one freed early is reused by the arena's next
     * segment of its size class, and the chunks go back to the heap when the arena closes. So the heap's
     * {@link #stats()} count the chunks as live blocks, not the segments. Larger or more aligned segments are heap
     * blocks of their own (16 bytes, or the alignment above 16, more than asked: see below). On a
     * {@link HeapMode#CHECKED} heap every segment is a block of its own, between the red zones of that mode (damage is
     * reported at the segment's address and size) and through its quarantine.
     *
     * <p>An arena's segments belong to the arena: free them with {@link #free(MemorySegment)} (or let the arena
     * close), never through their raw address. In FAST mode a segment never starts a heap block (a carved one lies
     * inside a chunk; one of its own starts 16 bytes, or its alignment, into its block); in CHECKED mode its block's
     * header marks it as an arena's. So {@link #free(long)}, {@link #realloc} and {@link #usableSize} reject its
     * address with an {@link InvalidFreeException}, and the address of the block under it (the arena's, as the blocks
     * of {@link #stack()} are the stacks'), and the arena can never free its memory twice.
     *
     * @return a new open arena
     * @throws IllegalStateException if the heap is closed
     */
    public Arena newArena() {
        return new ConfinedHeapArena(blocks(), arenas, checked == null);
    }

    /**
     * Opens an arena that any thread may use, like {@link Arena#ofShared()}, whose segments are blocks of this heap.
     * As {@link #newArena()} in every other way: {@code allocate}, {@link #free(MemorySegment)} of its segments and
     * {@code close} are thread-safe, and closing makes the segments inaccessible to every thread before their
     * blocks go back to the heap.
     *
     * @return a new open arena
     * @throws IllegalStateException if the heap is closed
     */
    public Arena newSharedArena() {
        return new SharedHeapArena(blocks(), arenas, checked == null);
    }

    /**
     * Returns the calling thread's stack allocator for this heap: frames pushed and popped in LIFO order,
     * {@code try (StackFrame frame = heap.stack().push()) { ... }}, each a {@link java.lang.foreign.SegmentAllocator}
     * whose allocations are freed when it closes. Push, allocate and pop are O(1). Every stack holds
     * {@link HeapStack#DEFAULT_SIZE} bytes, one block of this heap, taken on its first push. A platform thread keeps
     * its block; a virtual thread borrows one from a small pool for its outermost frame, so the blocks follow the
     * threads inside a frame at the same time, not the number of virtual threads. See {@link HeapStack}.
     *
     * @return the calling thread's stack for this heap (the same object on every call from that thread)
     * @throws IllegalStateException if the heap is closed
     */
    public HeapStack stack() {
        core.checkOpen();
        return stacks.current();
    }

    /**
     * {@return a snapshot of this heap's figures; safe to call from any thread at any time, without stopping anyone:
     * O(thread caches, and the bitmap words of slabs whose blocks other threads freed and whose owner has not collected
     * them yet) plus a {@code mincore} call per stretch of committed pages for the resident bytes (a stretch ends only
     * at a run of 4 MiB or more given back; micro-seconds; not for a per-allocation path)}
     */
    public HeapStats stats() {
        return stats(true);
    }

    /**
     * {@link #stats()} without the resident bytes (0 here), so without the {@code mincore} scan: for this package's
     * tests that check the counters after every operation (a scan per step made a long fuzz run's steps grow with the
     * committed range).
     */
    HeapStats countersForTests() {
        return stats(false);
    }

    /**
     * @return the stripes' collections of remote frees so far (for tests): the purger makes them at any time, and
     *         the free runs they leave change the page figures between two of a test's reads
     */
    long stripeCollectionsForTests() {
        return core.stripeCollections();
    }

    private HeapStats stats(boolean resident) {
        if (checked != null) checked.reapDeadThreads(); // before the engine counts: their blocks go back to it
        HeapStats s = core.stats(resident);
        return checked == null ? s : checked.adjust(s);
    }

    /** {@return the mode this heap was built with} */
    public HeapMode mode() {
        return checked == null ? HeapMode.FAST : HeapMode.CHECKED;
    }

    /**
     * Walks the whole heap and returns every damaged block, with its allocation site where recorded. In
     * {@link HeapMode#CHECKED} mode it checks the red zones of every live block and the poison of every quarantined
     * one; in both modes it checks the page layer's own structure, and throws {@link IllegalStateException} if that
     * is broken (which no program can cause through this API). Exact when no other thread uses the heap; under
     * concurrent use it checks the blocks that stay live during the walk. In CHECKED mode a block with no valid
     * header is not reported while a malloc that may have taken it is under way on another thread, its header still
     * to be written (a small block's: one from the cache that owns its slab; another block's: any page-run or aligned
     * malloc); real damage there is reported by the block's free or a later {@code verify()}. A {@link #close()} on
     * another thread waits for it. O(blocks).
     *
     * @return the damaged blocks, in address order; empty in FAST mode
     */
    public List<HeapDamage> verify() {
        // Under the close gate: the walk reads blocks outside the page lock, and a close() on another thread (this is
        // an MXBean operation, called on a JMX thread) unmapped them under it and the JVM died; close() waits now
        closeGate.lock();
        try {
            core.checkStructure();
            return checked == null ? List.of() : checked.verify();
        } finally {
            closeGate.unlock();
        }
    }

    /**
     * Reports the live blocks grouped by allocation site, largest first. Sites are known for the blocks whose site
     * was recorded ({@link Builder#trackSites(double)}); the others are counted together. The arenas still open are
     * reported by arena, with their live segments ({@link LeakReport#arenas()}), not as the heap blocks they hold.
     * O(recorded blocks + the open arenas' blocks and chunk bytes / 16).
     *
     * @return the live blocks now
     */
    public LeakReport leaks() {
        closeGate.lock(); // as verify(): CHECKED reads the blocks' headers, which a close() would unmap
        try {
            return liveBlocksReport();
        } finally {
            closeGate.unlock();
        }
    }

    /** {@link #leaks()}, the close gate held. */
    private LeakReport liveBlocksReport() {
        HeapStats s = stats();
        SiteRecorder sites = core.sites();
        Collection<SiteRecord> records = sites == null ? List.of() : sites.live();
        // The blocks behind stack(): the heap's own, given back at close, never the program's leaks
        Set<Long> stackBlocks = stacks.heldBlocks();
        long blocks = s.liveBlocks() - stackBlocks.size();
        long bytes = s.liveBytes() - stackBlocks.size() * stacks.blockSize();
        CheckedHeap c = checked;
        return LeakCollector.collect(core.name(), blocks, bytes, records, r -> {
            // CHECKED: one look at the block, which another thread may free (and its memory be reused) meanwhile
            long[] block = c == null ? new long[] {r.address, r.size} : c.programBlock(r.address);
            return block == null || stackBlocks.contains(block[0]) ? null : block;
        }, arenas.holdings()); // an arena's chunks (FAST) are its own: reported as the arena not closed, by segment
    }

    /**
     * Takes a picture of the heap's address space, for heap maps and reports: O(runs + small blocks), not for hot
     * paths.
     *
     * <p>In {@link HeapMode#CHECKED} mode the picture is the engine's: a block's size includes its red zones, and
     * freed blocks waiting in quarantine count as live blocks of their class (the program's figures are
     * {@link #stats()}'s).
     *
     * @return the runs of pages, slabs and their occupancy, and per-class figures
     */
    public HeapSnapshot snapshot() {
        return core.snapshot();
    }

    /**
     * Gives every free page back to the OS now, instead of after the decay time: the free page runs, and the empty slabs
     * of the calling thread's cache, of the caches shared by virtual threads and of threads that ended, whose
     * {@linkplain #stack() stacks'} blocks are taken back too, with the idle blocks the stacks pool (the next stack to
     * push takes a new block). The caches of
     * other live threads keep theirs (their shares of {@link Builder#spareBytes}): only a cache's own thread may
     * touch them. In {@link HeapMode#CHECKED} mode the
     * freed blocks waiting in quarantine that the calling thread may release (its own, the virtual threads', those
     * of threads that ended) leave it first, checked as they leave: damage found is reported by {@link #verify()}
     * and {@link #close()}.
     */
    public void trim() {
        core.checkOpen();
        // First: in CHECKED mode their blocks go through the quarantine released below. The pool's idle blocks too:
        // kept, they held up to 8 x 72 KiB live and committed after a trim with no thread inside a frame
        stacks.releaseIdle();
        if (checked != null) checked.releaseQuarantine();
        core.trim();
    }

    /** {@return the name given to this heap (for messages and monitoring)} */
    public String name() {
        return core.name();
    }

    /**
     * Gives all memory back to the OS; every block becomes invalid and later calls throw
     * {@link IllegalStateException}. Closing twice does nothing. The global heap cannot be closed.
     *
     * <p>Segments of the heap's arenas that are still open are not made inaccessible (a confined arena can be closed
     * only by its own thread): close the arenas first. Afterwards their {@code allocate} and
     * {@link #free(MemorySegment)} of their segments throw {@link IllegalStateException}, and their {@code close}
     * only forgets their memory.
     *
     * @throws UnsupportedOperationException on the global heap
     * @throws HeapLeakException with {@link Builder#failOnLeak(boolean) failOnLeak(true)}, when blocks were still live
     *         (the heap is closed all the same)
     * @throws HeapCorruptionException in {@link HeapMode#CHECKED} mode, when blocks that were still in quarantine were
     *         damaged (the first; a leak failure is suppressed in it; the heap is closed all the same)
     */
    @Override
    public void close() {
        if (global) throw new UnsupportedOperationException("the global heap is never closed");
        List<HeapDamage> damage;
        LeakReport leaks;
        closeGate.lock(); // a leak being reclaimed on a cleaner's thread finishes first, and none starts after
        try {
            if (core.isClosed()) return;
            core.onPrimaryCache(null); // no fast path from here on: every call finds the heap closed
            fastThread = null;
            fastCache = null;
            core.closeThreadDoors();
            stacks.releaseAll();
            damage = checked == null ? List.of() : checked.drainQuarantine();
            LeakReport live = stats().liveBlocks() > 0 ? leaks() : null;
            // Live blocks that are all the heap's own (a stack's a live virtual thread borrowed) are no leak: an empty
            // report made a failOnLeak heap throw for "0 live block(s)"
            leaks = live == null || live.isEmpty() ? null : live;
            Monitoring.close(this, mbean);
            arenas.heapClosed(); // an open arena's carved segments free no heap block: it must refuse them itself
            if (checked != null) watch.closeAll(); // segments of blocks still live throw from now on
            core.close();
        } finally {
            closeGate.unlock();
        }
        HeapLeakException leakFailure = null;
        if (leaks != null) {
            Monitoring.leak(core.label(), "close", leaks.liveBlocks(), leaks.liveBytes(), false, leaks.toString());
            if (failOnLeak) {
                leakFailure = new HeapLeakException(leaks);
            } else {
                LOG.log(reportLeaks ? System.Logger.Level.WARNING : System.Logger.Level.DEBUG,
                        () -> "closing a heap that holds live blocks (they are freed): " + leaks);
            }
        }
        if (!damage.isEmpty()) {
            // Damage is the graver finding: it is thrown, with the leaks a failOnLeak heap would throw suppressed.
            HeapCorruptionException e = new HeapCorruptionException(damage.getFirst(), "close found " + damage.size()
                    + " damaged block(s) in the quarantine of heap " + core.name());
            if (leakFailure != null) e.addSuppressed(leakFailure);
            throw e;
        }
        if (leakFailure != null) throw leakFailure;
    }

    /** {@return {@code Heap[NAME]}, or {@code Heap[NAME, closed]} once the heap is closed} */
    @Override
    public String toString() {
        return "Heap[" + core.name() + (core.isClosed() ? ", closed]" : "]");
    }

    /**
     * Settings for a new heap. Every setting has a default; call {@link #build()} to create the heap.
     */
    public static final class Builder {
        /** The most address space one heap reserves: 2^30 pages of 4 KiB, so that page numbers and sums fit an int. */
        private static final long MAX_RESERVE = 4L << 40;
        private String name;
        private long limit = Long.MAX_VALUE;
        private long reserve = 64L << 30;
        private Duration decay = Duration.ofSeconds(1);
        private long releaseThreshold = 32L << 20;
        private long spareBytes = LocalHeap.SPARE_BYTES;
        private PageGathering pageGathering = PageGathering.OFF;
        private HeapMode mode = HeapMode.FAST;
        private double siteRate;
        private boolean failOnLeak;
        private boolean reclaimLeaks;
        private long quarantine = 4L << 20;
        /** Null: register when the platform MBean server exists already. */
        private Boolean jmx;
        /** The monotonic clock (nanoseconds) decay times are measured by: not public, for tests' manual clocks. */
        private LongSupplier clock = System::nanoTime;
        private long largeAllocationEvent = 1L << 20;

        private Builder() {}

        /**
         * Chooses FAST (the default) or CHECKED; see {@link HeapMode}.
         * @param mode FAST or CHECKED
         * @return this builder
         */
        public Builder mode(HeapMode mode) {
            this.mode = Objects.requireNonNull(mode, "mode");
            return this;
        }

        /**
         * Records where blocks are allocated (a stack trace) for a share of them: 0 (the default) records none, 1
         * every block. Below 1, sampling is by bytes, as jemalloc's profiler does: each thread takes a sample after
         * an exponentially distributed number of allocated bytes, of mean {@code 512 / rate}, so a block of
         * {@code s} bytes is recorded with probability {@code 1 - exp(-s * rate / 512)}: large blocks almost
         * always, small ones rarely. At 1/1000 (one sample per 512,000 bytes allocated, about jemalloc's default of
         * one per 512 KiB) the cost is negligible; at 1 every allocation walks the stack (microseconds).
         *
         * @param rate the share to record, from 0 (none) to 1 (every block)
         * @return this builder
         * @throws IllegalArgumentException if {@code rate} is not between 0 and 1
         */
        public Builder trackSites(double rate) {
            if (!(rate >= 0 && rate <= 1)) throw new IllegalArgumentException("trackSites rate must be in [0, 1]: " + rate);
            this.siteRate = rate;
            return this;
        }

        /**
         * With {@code true}, {@link Heap#close()} of a heap that still holds live blocks throws a
         * {@link HeapLeakException} with the {@link LeakReport} (after closing the heap), so that a leak fails the
         * test that caused it. Default: {@code false}: the report is logged through {@link System.Logger} (at
         * WARNING when sites are tracked or the mode is CHECKED, else at DEBUG: closing frees everything, as an
         * arena does).
         * @param fail whether close() throws when blocks are still live
         * @return this builder
         */
        public Builder failOnLeak(boolean fail) {
            this.failOnLeak = fail;
            return this;
        }

        /**
         * With {@code true}, a block found leaked by the garbage collector (its segments unreachable, see
         * {@link Heap#allocate(long, long)}) is freed by the heap after it is reported. Only safe when the program
         * does not keep the raw address of such blocks elsewhere. Default: {@code false} (reported only). Only watched
         * segments can be found leaked (those of blocks whose site is recorded, and every one in CHECKED mode), so
         * {@link #build()} refuses {@code true} for a FAST heap without {@link #trackSites(double)}.
         * @param reclaim whether blocks found leaked by the collector are freed
         * @return this builder
         */
        public Builder reclaimLeaks(boolean reclaim) {
            this.reclaimLeaks = reclaim;
            return this;
        }

        /**
         * The most bytes of freed blocks a CHECKED heap holds in quarantine before their memory is reused; larger
         * catches writes through older dangling pointers. A block is charged its bytes and its red zones: 32 bytes, or
         * for an alignment above 16 its front (the alignment, at most 4 KiB) and its 16-byte tail.
         * The capacity is shared by the threads that free (each platform thread has a ring of its own; virtual
         * threads share a few): a block larger than its thread's share is given back at once. The quarantine never
         * holds more than this capacity, at any instant: a thread short of its share takes back what the rings of
         * others (idle threads' included) hold over theirs, their oldest blocks leaving first. Default: 4 MiB (one
         * thread holding 16 MiB made its blocks leave colder: larson at half the speed, see docs/benchmarks.md).
         * Ignored in FAST mode.
         *
         * @param bytes the quarantine's capacity
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder quarantine(long bytes) {
            if (bytes < 0) throw new IllegalArgumentException("quarantine must not be negative: " + bytes);
            this.quarantine = bytes;
            return this;
        }

        /**
         * Whether the heap registers its {@link HeapMXBean} with the platform MBean server while it is open. Default:
         * register when the platform MBean server exists already at {@code build()} (the program, a framework or a
         * JMX agent such as {@code -Dcom.sun.management.jmxremote} uses JMX), so that a program without JMX does not
         * start the server (12 MiB and 0.1 s) for the heap's sake; {@code true} registers in any case. On a runtime
         * image without the {@code java.management} module (possible for a program on the class path) the default
         * registers nothing, and {@code build()} of a heap asked to register throws
         * {@link UnsupportedOperationException}. Likewise, without {@code jdk.jfr} the heap emits no JFR events.
         *
         * @param register whether to register the MBean
         * @return this builder
         */
        public Builder jmx(boolean register) {
            this.jmx = register;
            return this;
        }

        /**
         * Allocations of at least this many bytes emit the JFR event {@code org.malloc4j.LargeAllocation} (when JFR
         * records it), as does a realloc that grows a block in place to that size; one that shrinks a block, or keeps
         * its size, does not (in CHECKED mode either, where it moves the block). Default: 1 MiB. More than 256 KiB:
         * blocks up to that come from the threads' caches, whose fast path takes no such check.
         *
         * @param bytes the threshold
         * @return this builder
         * @throws IllegalArgumentException if 256 KiB or less
         */
        public Builder largeAllocationEvent(long bytes) {
            if (bytes <= CACHED_BLOCKS) {
                throw new IllegalArgumentException("largeAllocationEvent must be more than " + CACHED_BLOCKS
                        + " bytes (blocks up to that come from the threads' caches): " + bytes);
            }
            this.largeAllocationEvent = bytes;
            return this;
        }

        /** The largest block the threads' caches serve, below every large-allocation threshold. */
        private static final long CACHED_BLOCKS = 256 * 1024;

        /**
         * Names the heap in messages and monitoring. Default: {@code heap-N}.
         * @param name the name
         * @return this builder
         */
        public Builder name(String name) {
            this.name = Objects.requireNonNull(name, "name");
            return this;
        }

        /**
         * Caps the memory the heap takes from the OS (committed bytes). Default: no cap beyond the reservation. Before
         * it refuses a request at the cap, the heap takes back the memory the program no longer holds that the calling
         * thread may reach: its own cache's empty slabs, the caches of threads that ended, the stripes shared by
         * virtual threads that no thread is using, and, for a page-run request, the stacks' blocks of ended threads
         * and idle ones; in {@link HeapMode#CHECKED} mode also the blocks waiting in quarantine that it may release.
         * Then it tries once more. The empty slabs other live threads' caches keep stay: only a cache's own thread
         * touches them.
         *
         * @param bytes the cap on committed bytes
         * @return this builder
         * @throws IllegalArgumentException if {@code bytes} is not positive
         */
        public Builder limit(long bytes) {
            if (bytes <= 0) throw new IllegalArgumentException("limit must be positive: " + bytes);
            this.limit = bytes;
            return this;
        }

        /**
         * Sets the address space reserved up front: the most the heap can ever hold. Reserving costs no memory.
         * Default: 64 GiB (256 GiB for the global heap).
         *
         * @param bytes address space to reserve
         * @return this builder
         * @throws IllegalArgumentException if {@code bytes} is below 16 MiB or above 4 TiB (2^30 pages: the page
         *         layer numbers its pages with an {@code int})
         */
        public Builder reserve(long bytes) {
            if (bytes < (16L << 20) || bytes > MAX_RESERVE) {
                throw new IllegalArgumentException("reserve must be between 16 MiB and 4 TiB: " + bytes);
            }
            this.reserve = bytes;
            return this;
        }

        /**
         * How long free pages stay committed before they are given back to the OS; {@code Duration.ZERO} gives
         * them back at once. Default: 1 second. (Empty slabs a thread's cache keeps for reuse are not free pages
         * until the cache gives them back: see {@link #spareBytes}.) A time beyond what a {@code long} of nanoseconds
         * holds (292 years) means never, as {@code Long.MAX_VALUE} nanoseconds does.
         *
         * @param decay how long free pages stay committed
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder decay(Duration decay) {
            if (decay.isNegative()) throw new IllegalArgumentException("decay must not be negative: " + decay);
            this.decay = decay.compareTo(NEVER) > 0 ? NEVER : decay;
            return this;
        }

        /** The longest decay: as many nanoseconds as a long holds. */
        private static final Duration NEVER = Duration.ofNanos(Long.MAX_VALUE);

        /**
         * Blocks of at least this many bytes go back to the OS as soon as they are freed, and so does the tail a
         * realloc cuts off a block when it is this large. Default: 32 MiB (glibc's largest mmap threshold); smaller
         * blocks stay committed for reuse until the decay time has passed. A block this large that realloc must grow
         * elsewhere moves by its pages, not by a copy of its bytes (its old place would go back at once anyway).
         * A program that allocates and frees huge buffers in a loop is recognised: when a request comes within the
         * decay time (at most a second) of the release of a block that could have held it, such blocks and tails up to
         * its size wait for the decay time from then on, and each turn reuses resident pages instead of faulting them
         * all in again. That ends on {@link Heap#trim()}, when no such request has come for the decay time (at most
         * a second), or when one of the blocks kept waits its whole decay time unused; a huge request that none of
         * them can hold gives them back before it takes new pages.
         *
         * @param bytes the block size from which freed memory goes back at once
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder releaseThreshold(long bytes) {
            if (bytes <= 0) throw new IllegalArgumentException("releaseThreshold must be positive: " + bytes);
            this.releaseThreshold = bytes;
            return this;
        }

        /**
         * The most bytes of empty slabs the thread caches keep for reuse, all size classes together (a slab is
         * the run of pages a cache cuts into blocks of one size; blocks above 32 KiB, up to 256 KiB, have a slab
         * each). Default: 512 KiB, so that a program whose slabs empty and refill in a loop, or that frees and
         * reallocates blocks of a few hundred KiB, does not go to the shared page layer every time. The budget is
         * the heap's: a thread alone keeps all of it, and the caches that hold slabs share it evenly (the virtual
         * threads' shared caches included, a dead thread's cache until it is adopted), each keeping at least
         * 128 KiB or the budget, whichever is less: n caches keep the budget or n times 128 KiB, whichever is more.
         * A cache whose share shrank gives the excess back when it next keeps an empty slab or takes a new one. 0
         * gives every slab back as soon as it is empty but for each class's current one: with
         * {@code decay(Duration.ZERO)}, committed bytes then follow live bytes (peak committed / peak live at most 1.15
         * on the public traces), at the price of a system call and page faults each time a slab empties and a new one
         * is needed.
         *
         * @param bytes the spare budget of the heap's thread caches together, 0 or more
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder spareBytes(long bytes) {
            if (bytes < 0) throw new IllegalArgumentException("spareBytes must not be negative: " + bytes);
            this.spareBytes = bytes;
            return this;
        }

        /**
         * When the pages of shorter free runs are moved into a new run instead of new pages taken from the OS, which
         * keeps the heap's footprint from growing while free memory it holds could serve the request: a block needs to
         * be contiguous only in virtual memory. Default: {@link PageGathering#OFF}. {@link PageGathering#BOUNDED} once
         * per new height of the heap: a lower first peak for a program that grows once; {@link
         * PageGathering#AT_EVERY_PEAK} for the least memory at a time cost (see each mode for what it costs).
         * Each moved piece is a kernel mapping until its pages are given back; moving pauses while the process holds a
         * quarter of {@code vm.max_map_count}. With a decay time of 0 no free run stays committed, and nothing moves.
         *
         * @param mode when to gather
         * @return this builder
         */
        public Builder pageGathering(PageGathering mode) {
            this.pageGathering = Objects.requireNonNull(mode, "mode");
            return this;
        }

        /**
         * Sets the monotonic clock, in nanoseconds, that the page layer measures decay times by (default
         * {@code System::nanoTime}). Package-private, not API: for tests in this package that drive decay with a
         * manual clock instead of waiting on the machine's.
         *
         * @param clock the clock, read under the page lock by the heap's operations and by the purger thread
         * @return this builder
         */
        Builder clock(LongSupplier clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * {@return a new heap with these settings}
         *
         * @throws IllegalArgumentException if {@code reclaimLeaks(true)} is asked of a FAST heap that records no
         *         sites: such a heap watches no segment, so nothing could ever be reclaimed
         * @throws HeapExhaustedException if the OS refuses the reservation of address space (the message quotes
         *         {@code mmap}'s error number: see {@link #reserve(long)})
         */
        public Heap build() {
            if (reclaimLeaks && mode == HeapMode.FAST && siteRate == 0) {
                throw new IllegalArgumentException("reclaimLeaks(true) needs trackSites(rate) with a rate above 0, or"
                        + " mode(HeapMode.CHECKED): a FAST heap that records no allocation sites watches no segment,"
                        + " so no leaked block could be found and freed");
            }
            return new Heap(this, false);
        }
    }
}
