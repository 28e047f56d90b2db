package org.malloc4j.internal.small;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Maps threads to caches, and keeps every cache on a list so that statistics are summed without stopping
 * anyone.
 *
 * <ul>
 *   <li>A platform thread gets its own exclusive {@link LocalHeap} on its first allocation (found by a field
 *       check for the first thread, in a table indexed by thread id for the others, by a ThreadLocal when two
 *       live threads' ids share a slot of that table).</li>
 *   <li>Virtual threads share a fixed set of striped caches, chosen by thread id and used under the stripe's
 *       lock: a million virtual threads make no more caches than there are stripes.</li>
 *   <li>When a platform thread dies, its cache is adopted by a live one ({@link #reapDead}): its slabs, with the
 *       blocks still live in them, change owner, empty ones go back to the page layer, and its counters are
 *       folded into the retired totals.</li>
 * </ul>
 */
public final class ThreadCaches {
    private final SlabSource source;
    /**
     * Each thread's slot holding its cache. A slot, not the cache: a thread's ThreadLocal value lives as long as the
     * thread, and the cache refers to the heap, which refers to this ThreadLocal, the entry's key, so that the entry
     * never goes stale; {@link #forgetThreads} empties the slots when the heap closes, and the closed heap can then be
     * collected while the threads that used it live on. The slot is of a JDK class, read and written plainly: the
     * entry outlives the heap in every thread that used it and lives on (until that thread's map happens to expunge
     * it), and a value of a class of this library's kept its class loader reachable, so that a program that loaded
     * the library in a loader of its own could never unload it (LoaderUnloadsAfterItsHeapsCloseTest).
     */
    private final ThreadLocal<AtomicReference<LocalHeap>> local;
    /** The slots of the caches in use, for {@link #forgetThreads}. Guarded by the registry lock. */
    private final java.util.IdentityHashMap<LocalHeap, AtomicReference<LocalHeap>> slots =
            new java.util.IdentityHashMap<>();
    /**
     * Set by {@link #forgetThreads} (under the registry lock): a cache registered after it (a call that may race close,
     * trim() say, checked the heap open just before close) is not put in its thread's slot, which nobody would empty.
     */
    private boolean forgotten;
    private final LocalHeap[] stripes;
    private final ReentrantLock registryLock = new ReentrantLock();
    private volatile LocalHeap[] all = new LocalHeap[0];
    private int reapCursor;
    /**
     * The first thread's cache, checked before the ThreadLocal: two loads instead of a hash probe for the common
     * case of one thread using the heap. Its thread is kept here too, beside it, so that other threads compare
     * against this object's read-only line and never load a field of the primary cache, whose line its thread
     * writes on every malloc and free (reading {@code primary.thread} from a second thread made both threads slower
     * than one: false sharing). Only the primary thread itself can see {@code primaryThread} equal to itself, and
     * it wrote {@code primary} first.
     */
    private LocalHeap primary;
    private Thread primaryThread;
    /** Told the new primary cache when one is chosen, and null when it is retired (see {@link #onPrimary}). */
    private volatile java.util.function.Consumer<LocalHeap> primaryListener;
    /**
     * The other platform threads' caches, at their thread id modulo the length: a load of the id, of the slot and of
     * the cache's own {@code thread} (a line its thread reads anyway) instead of a ThreadLocal lookup, and with it the
     * recent-slab guess on free ({@link #ownCacheOf}), which a ThreadLocal lookup on every free would cost more than
     * it saves. A 16-byte malloc/free pair on a thread that is not the heap's first: 16.8 ns through the ThreadLocal,
     * 14.7 ns through this table, 12.7 ns for the first thread (one thread, two heaps in turn, one JVM). Written under
     * the registry lock, read racily: a slot names a cache only to the thread that registered it, itself; a thread
     * whose slot a live thread's cache holds uses the ThreadLocal.
     */
    private final LocalHeap[] byId = new LocalHeap[BY_ID];
    /**
     * The thread of each cache in {@link #byId}, slot for slot: a thread compares itself with its slot here, in a
     * line nobody writes but under the registry lock, instead of with the {@code thread} field of the cache in the
     * slot, which for a thread whose slot holds another thread's cache (a virtual thread, say) is a line that other
     * thread writes on every malloc and free. The two loads, the cache and its thread, are no longer one after the
     * other either. Written after the cache when a thread enters and before it when one leaves, both under the
     * registry lock; only the thread itself can find itself here, and it entered its slot itself.
     */
    private final Thread[] byIdThread = new Thread[BY_ID];
    /** Slots of {@link #byId}: thread ids are handed out in order, so live threads rarely share one. */
    static final int BY_ID = 256;
    /**
     * Set by {@link #closeDoors} (under the registry lock): no cache enters {@link #byId} from then on. A closing heap
     * still frees blocks after it shut the doors (the threads' stack blocks), and a thread that had no cache yet
     * registers one there: in the table it would open a door to the unmapped heap.
     */
    private boolean doorsClosed;

    /** The heap's exact peak while one cache alone counted, kept when that stopped ({@link #foldSoloPeak}). */
    private long soloPeak;
    // Counters of caches whose threads died, folded in when they were adopted. Guarded by registryLock.
    private long retiredMallocs, retiredFrees;
    /**
     * Live bytes of caches whose threads died, folded in when they were adopted; written under registryLock, after
     * the adopted cache left {@link #all}, and read racily (see {@link #retiredLive()}). Volatile, for that order.
     */
    private volatile long retiredLive;
    /**
     * The {@link LocalHeap#mediumRounding} of caches whose threads died, folded in as {@link #retiredLive} is: their
     * medium blocks live on in the adopter's slabs, and each one's free takes its rounding out of the freeing thread's
     * count (the adopter's, or another thread's for a remote free): only the sum over all counts means anything.
     */
    private volatile long retiredRounding;
    private long adopted;

    /** The heap's spare budget ({@code Heap.Builder.spareBytes}), which the caches that hold slabs share. */
    private final long spareTotal;
    /** The caches that count in its division ({@link LocalHeap#sharesSpares}). Guarded by the registry lock. */
    private int spareHolders;
    /**
     * The least share of the spare budget a cache gets, however many share it (but never more than the budget): so
     * that a thread that frees and reallocates a medium block in a loop keeps its slab instead of going to the page
     * layer's lock twice a cycle (and, with a decay time of 0, to the OS). A share below a slab's bytes gives every
     * such slab back: eight threads cycling a 100 KiB block each took a new slab on every malloc with a floor of
     * 64 KiB, none with 128 KiB; blocks of 144-256 KiB do that from four threads on (a floor of 256 KiB, one slab
     * of the largest class, would spare them too, but let eight threads keep 2 MiB, half what they kept before the
     * budget was shared). On {@code MultiThreadFootprint}'s mixed loop 64 and 128 KiB did not differ beyond
     * run-to-run noise, in peak committed / peak live or in slabs taken (7.6-7.7% of mallocs with eight threads,
     * against 7.1% when each cache had 512 KiB). With 128 KiB the default budget is divided evenly up to four caches.
     */
    static final long SPARE_FLOOR = 128 << 10;

    public ThreadCaches(SlabSource source) {
        this.source = source;
        this.spareTotal = source.spareBudget();
        this.local = ThreadLocal.withInitial(AtomicReference::new);
        int n = Integer.highestOneBit(Math.max(4, Runtime.getRuntime().availableProcessors()) * 2 - 1);
        this.stripes = new LocalHeap[n];
        for (int i = 0; i < n; i++) stripes[i] = LocalHeap.shared(source);
        this.all = stripes.clone();
    }

    /**
     * Tells {@code listener} the primary cache (the heap's first thread's) whenever one is chosen, on that thread,
     * and null when it is retired after its thread died; both under the registry lock. For a front that keeps the
     * primary cache and its thread where a malloc reaches them in fewer loads ({@code Heap}'s own fast path). A null
     * listener tells nobody from then on.
     */
    public void onPrimary(java.util.function.Consumer<LocalHeap> listener) {
        registryLock.lock();
        try {
            primaryListener = listener;
            if (primary != null && listener != null) listener.accept(primary);
        } finally {
            registryLock.unlock();
        }
    }

    /**
     * @return the table of other platform threads' caches, indexed by thread id modulo its length ({@link #BY_ID}):
     *         the caller may look its own thread's cache up there, and must check the cache's {@code thread} (a slot
     *         may hold another thread's cache, or nothing). Entries are written under the registry lock; read racily
     *         they are either a cache or null. {@link #closeDoors} empties it.
     */
    public LocalHeap[] doors() {
        return byId;
    }

    /** @return the thread of each cache in {@link #doors}, slot for slot (null where there is none) */
    public Thread[] doorThreads() {
        return byIdThread;
    }

    /** Empties the table of {@link #doors}: the heap is closing, and no thread may reach its cache from there. */
    public void closeDoors() {
        registryLock.lock();
        try {
            doorsClosed = true;
            Arrays.fill(byIdThread, null);
            Arrays.fill(byId, null);
        } finally {
            registryLock.unlock();
        }
    }

    /**
     * @return the calling thread's cache: exclusive for a platform thread; for a virtual thread a shared stripe,
     *         which the caller must use under {@link LocalHeap#lock()}
     */
    public LocalHeap get() {
        Thread t = Thread.currentThread();
        LocalHeap c = ownCacheOf(t);
        if (c != null) return c;
        if (t.isVirtual()) return stripes[(int) t.threadId() & (stripes.length - 1)];
        AtomicReference<LocalHeap> slot = local.get();
        LocalHeap cache = slot.getPlain();
        return cache != null ? cache : register(slot);
    }

    /** Empties every thread's slot (the heap is closed): see {@link #local}. */
    public void forgetThreads() {
        registryLock.lock();
        try {
            forgotten = true;
            for (AtomicReference<LocalHeap> slot : slots.values()) slot.setPlain(null);
            slots.clear();
            local.remove(); // the calling thread's entry goes at once; other threads' go when their maps expunge them
        } finally {
            registryLock.unlock();
        }
    }

    /**
     * @return the exclusive cache of platform thread {@code t} when it is found without a ThreadLocal lookup (the
     *         heap's first thread's, or one in {@link #byId}), else null
     */
    public LocalHeap ownCacheOf(Thread t) {
        if (primaryThread == t) return primary;
        int slot = (int) t.threadId() & (BY_ID - 1);
        return byIdThread[slot] == t ? byId[slot] : null;
    }

    /**
     * While one cache alone has counted ({@link #singleUser}), its peak is the heap's exact peak, which statistics
     * stop reading once a second cache registers or that cache is adopted: it is kept here then. A review saw the
     * peak of the only allocating thread lost when its cache was adopted, and the heap's peak fall between two reads
     * (2026-12-07). Registry lock held.
     */
    private void foldSoloPeak() {
        if (!singleUser()) return;
        for (LocalHeap c : all) soloPeak = Math.max(soloPeak, c.peak);
    }

    /**
     * Called before a cache that has {@linkplain LocalHeap#neverCounted counted nothing} counts for the first time (its
     * holder's slow path or {@code hold()}): keeps the exact peak of the heap's only user, if it had one, as
     * {@link #register} does for a new cache. A stripe is on the list from the start, and a cache registered by a call
     * that counts nothing (trim()) counts later: their first count made the heap's peak the sampled one with nothing
     * folded, and a 64 MiB block the main thread alone had allocated and freed was lost from the peak once a virtual
     * thread allocated 16 bytes. The caller holds the cache (its stripe's lock is taken before the registry's lock).
     */
    public void beforeFirstCount() {
        registryLock.lock();
        try {
            foldSoloPeak();
        } finally {
            registryLock.unlock();
        }
    }

    /**
     * Counts {@code cache} in the division of the heap's spare budget from its first slab on: called by its holder
     * before it takes one ({@code HeapCore.newSlab}; a plain read once it counts). A cache with no slab can have no
     * spare, and a thread that only frees, trims or reads statistics registers a cache with none: counted, it would
     * halve the share of a program's one allocating thread.
     */
    public void shareSpares(LocalHeap cache) {
        if (cache.sharesSpares) return;
        registryLock.lock();
        try {
            joinSpares(cache);
            reshareSpares();
        } finally {
            registryLock.unlock();
        }
    }

    /**
     * Takes {@code cache}, which holds no slab now (a trim gave them back), out of the division of the spare budget:
     * the caches that hold slabs share it, and a stripe that adopted a dead thread's slabs for the purger, or a cache
     * emptied by a trim, counted to the heap's end (the one thread left kept half the budget for good). It counts
     * again from its next slab ({@link #shareSpares}). Called by its holder (a stripe under its lock, which is taken
     * before the registry's).
     */
    public void leaveSparesIfEmpty(LocalHeap cache) {
        if (!cache.sharesSpares || cache.holdsSlabs()) return;
        registryLock.lock();
        try {
            cache.sharesSpares = false;
            spareHolders--;
            reshareSpares();
        } finally {
            registryLock.unlock();
        }
    }

    private void joinSpares(LocalHeap cache) {
        if (cache.sharesSpares) return;
        cache.sharesSpares = true;
        spareHolders++;
    }

    /**
     * Tells every cache its share of the spare budget, now that the caches holding slabs changed; registry lock held,
     * O(caches), when a cache takes its first slab or one is adopted. One cache alone keeps the whole budget, as
     * before it was shared (every single-thread figure is unchanged); {@code n} caches keep {@code 1/n} of it each, but
     * not less than {@link #SPARE_FLOOR} (nor more than the budget). Each cache had the whole budget before: on
     * {@code MultiThreadFootprint} with 64 slots a thread (4-7 MB live), decay 0, eight threads' medium stacks held
     * 0.59-0.70 times the live bytes at the committed peak, 0.13-0.22 now, and peak committed / peak live went from
     * 1.86-2.36 to 1.40-1.83 (platform and mixed threads, two runs each). Caches whose share shrank give back the
     * excess themselves, at their next spare or slab: only a cache's holder touches its lists. A stripe counts from its
     * first slab until a trim leaves it none (its virtual threads come and go); a dead thread's cache until it is
     * adopted, as its spares are committed until then.
     */
    private void reshareSpares() {
        long share = spareHolders <= 1 ? spareTotal
                : Math.min(spareTotal, Math.max(SPARE_FLOOR, spareTotal / spareHolders));
        for (LocalHeap c : all) c.spareShare(share);
    }

    private LocalHeap register(AtomicReference<LocalHeap> own) {
        LocalHeap cache = LocalHeap.exclusive(Thread.currentThread(), source);
        registryLock.lock();
        try {
            if (!forgotten) {
                own.setPlain(cache);
                slots.put(cache, own);
            }
            foldSoloPeak();
            LocalHeap[] grown = Arrays.copyOf(all, all.length + 1);
            grown[all.length] = cache;
            all = grown; // volatile write publishes the new cache to readers of all()
            if (primary == null) {
                primary = cache;
                primaryThread = cache.thread;
                var listener = primaryListener;
                if (listener != null) listener.accept(cache); // on the primary thread itself, before its first malloc
            } else if (!doorsClosed) {
                int slot = (int) cache.thread.threadId() & (BY_ID - 1);
                LocalHeap held = byId[slot];
                if (held == null || !held.thread.isAlive()) {
                    byId[slot] = cache; // the cache first: a thread that finds itself in byIdThread finds its cache
                    byIdThread[slot] = cache.thread;
                }
            }
        } finally {
            registryLock.unlock();
        }
        reapDead(cache, 4);
        return cache;
    }

    /**
     * Adopts the caches of dead threads into {@code into}, looking at up to {@code budget} caches from a rotating
     * cursor (so that a slow path pays O(budget), and every cache is looked at in turn). The caller holds
     * {@code into} (it is its own cache, or it holds the stripe's lock).
     */
    public void reapDead(LocalHeap into, int budget) {
        if (!registryLock.tryLock()) return; // someone else is reaping; a later slow path will look again
        reapLocked(into, budget);
    }

    /**
     * Adopts every dead thread's cache; O(caches). For statistics, trim and tests. It waits for the registry lock,
     * where a slow path's {@link #reapDead} passes: a trim() that met the lock held (stats() reading the retired
     * counters, a thread registering) adopted nothing, and the dead threads' slabs stayed committed after it.
     */
    public void reapAll(LocalHeap into) {
        registryLock.lock();
        reapLocked(into, Integer.MAX_VALUE / 2);
    }

    /**
     * @return the stripes' collections of remote frees so far (see {@link LocalHeap#collectionCount}): the purger
     *         collects idle stripes at any time, which turns their emptied slabs into free runs, so that a test comparing
     *         the page figures across one call of its own tells that work from the call's
     */
    public long stripeCollections() {
        long n = 0;
        for (LocalHeap stripe : stripes) n += stripe.collectionCount();
        return n;
    }

    /**
     * Adopts every dead thread's cache into the first stripe, under its lock, then collects the remote frees waiting
     * in every stripe: for the purger thread, so that the empty slabs of threads that ended go back to the page layer
     * even when no live thread takes a slow path. Passes when another thread is reaping.
     */
    public void reapDeadIntoStripe() {
        LocalHeap stripe = stripes[0];
        stripe.lock().lock();
        try {
            reapDead(stripe, Integer.MAX_VALUE / 2);
        } finally {
            stripe.lock().unlock();
        }
        collectStripes();
    }

    /**
     * Collects the remote frees waiting in each stripe that has some and is not in use now (its holder collects them on
     * its slow path). A stripe's slabs take remote frees that no thread but a virtual one of that stripe would collect:
     * the blocks that ended virtual threads left for platform threads to free (and the slabs the purger adopted into
     * the first stripe) stayed committed for good once those threads were gone, emptied but never collected.
     */
    private void collectStripes() {
        collectIdleStripes(null);
    }

    /**
     * Collects the remote frees waiting in each stripe that has some and that no thread holds now, but
     * {@code caller}'s own (the caller is in the middle of its slow path): for a cache about to take pages for a new
     * slab ({@code HeapCore.newSlab}), so that slabs other threads' frees emptied go back, or serve it, before the heap
     * grows. The stripe that allocated a block is seldom the next one used where each task gets a new virtual thread,
     * and its frees otherwise waited for the purger's next pass, up to a second, whatever the decay time: in a loop of
     * a platform and a virtual thread handing their blocks to each other, 0.9 to 1.5 times the live bytes, decay 0
     * ({@code MultiThreadFootprint} in the tests). O(stripes) reads when none has frees waiting; never waits.
     */
    public void collectIdleStripes(LocalHeap caller) {
        for (LocalHeap stripe : stripes) {
            if (stripe == caller || stripe.pendingHead() == null || !stripe.lock().tryLock()) continue;
            try {
                stripe.drainPending();
            } finally {
                stripe.lock().unlock();
            }
        }
    }

    /**
     * Collects the remote frees waiting in each stripe that no thread holds now, but {@code caller}'s own, and gives
     * its empty slabs back to the page layer: for a cache whose new slab the page layer refused, before its last try
     * ({@code HeapCore.newSlab}), where {@link #collectIdleStripes} had left those slabs kept as the stripes' spares.
     * The caller may hold its own stripe: the others are only tried, never waited for. O(stripes and their slabs).
     */
    public void releaseIdleStripes(LocalHeap caller) {
        for (LocalHeap stripe : stripes) {
            if (stripe == caller || !stripe.lock().tryLock()) continue;
            releaseLocked(stripe);
        }
    }

    /**
     * @return a block of class {@code c} for a request of {@code size} bytes, allocated from a stripe that no thread holds
     *         now, but {@code caller}'s own, and that has one free without a new slab ({@link LocalHeap#hasRoom}), or 0:
     *         for a cache whose new slab the page layer refused ({@code HeapCore.newSlab}). The purger adopts the caches
     *         of ended threads into the first stripe, whose free blocks no platform thread's cache could use: one was
     *         refused a 48-byte block with 300-odd free there (RefusalServedFromAStripeTest). The block is the stripe's,
     *         counted there, as a virtual thread of that stripe would have had it; the caller's free of it is a remote
     *         free. The caller may hold its own stripe: the others are only tried, never waited for. O(stripes).
     */
    public long lendFromIdleStripe(LocalHeap caller, int c, long size) {
        for (LocalHeap stripe : stripes) {
            if (stripe == caller || !stripe.lock().tryLock()) continue;
            try {
                stripe.drainPending();
                if (!stripe.hasRoom(c)) continue;
                if (stripe.neverCounted()) beforeFirstCount(); // as hold() does before a stripe's first count
                return stripe.allocate(c, size); // no slab taken: the room is there
            } finally {
                stripe.lock().unlock();
            }
        }
        return 0;
    }

    /** Collects {@code stripe}'s remote frees and gives its empty slabs back, then unlocks it: the caller locked it. */
    private void releaseLocked(LocalHeap stripe) {
        try {
            stripe.drainPending();
            stripe.releaseEmpty();
            leaveSparesIfEmpty(stripe);
        } finally {
            stripe.lock().unlock();
        }
    }

    /** {@link #reapDead}'s walk, with the registry lock held by the caller; gives the lock back. */
    private void reapLocked(LocalHeap into, int budget) {
        try {
            LocalHeap[] list = all;
            int n = list.length;
            // Each step looks at one cache: it is adopted (and the next slides into its place) or passed. The bound
            // is fixed first: counting against the shrinking list stopped a full walk short by one cache for each
            // cache adopted on the way, so reapAll could leave a dead thread's cache behind.
            int steps = Math.min(budget, n);
            for (int i = 0; i < steps && n > 0; i++) {
                if (reapCursor >= n) reapCursor = 0;
                LocalHeap c = list[reapCursor];
                if (c.thread != null && c != into && !c.thread.isAlive()) {
                    retire(c, into);
                    list = all;
                    n = list.length;
                } else {
                    reapCursor++;
                }
            }
        } finally {
            registryLock.unlock();
        }
    }

    private void retire(LocalHeap dead, LocalHeap into) {
        foldSoloPeak();
        into.adopt(dead);
        boolean reshare = dead.sharesSpares;
        if (reshare) {
            spareHolders--;
            // Its empty slabs went back to the page layer; the others, if any, are the adopter's now and may empty
            // into spares there. (A dead cache with only empty slabs leaves the purger's stripe out of the count.)
            if (into.holdsSlabs()) joinSpares(into);
        }
        // Off the list first, then into the retired live bytes (both volatile): a racy reader that reads the retired
        // bytes first and the list after (samplePeak, an exhaustion's message) may miss the dead cache's bytes for an
        // instant, but never counts them twice. The other way round, a peak sampled between the two writes counted
        // them in both places and kept that peak for good (a heap that never held 4 GiB reported 4.25).
        LocalHeap[] list = all;
        LocalHeap[] shrunk = new LocalHeap[list.length - 1];
        int j = 0;
        for (LocalHeap c : list) if (c != dead) shrunk[j++] = c;
        all = shrunk;
        retiredLive += dead.live;
        retiredRounding += dead.mediumRounding;
        retiredMallocs += dead.mallocs;
        retiredFrees += dead.frees;
        adopted++;
        AtomicReference<LocalHeap> deadSlot = slots.remove(dead);
        if (deadSlot != null) deadSlot.setPlain(null);
        if (primary == dead) {
            primaryThread = null;
            primary = null;
            var listener = primaryListener;
            if (listener != null) listener.accept(null);
        }
        int slot = (int) dead.thread.threadId() & (BY_ID - 1);
        if (byId[slot] == dead) {
            byIdThread[slot] = null;
            byId[slot] = null;
        }
        if (reshare) reshareSpares(); // after the list shrank
    }

    /** Collects the remote frees waiting in every stripe and gives its empty slabs back, each under its lock. */
    public void drainStripes() {
        for (LocalHeap stripe : stripes) {
            stripe.lock().lock();
            releaseLocked(stripe);
        }
    }

    /** @return every live cache (a snapshot; do not modify) */
    public LocalHeap[] all() {
        return all;
    }

    /** @return how many caches were adopted (read racily; for tests) */
    long adopted() {
        return adopted;
    }

    /**
     * @return live bytes counted by caches that were retired (read racily): read it before {@link #all()}, so that a
     *         cache adopted meanwhile is counted once at most (see {@link #retire})
     */
    public long retiredLive() {
        return retiredLive;
    }

    /** @return {@link LocalHeap#mediumRounding} of the retired caches (read racily, as {@link #retiredLive()}) */
    public long retiredRounding() {
        return retiredRounding;
    }

    /**
     * @return the caches' counters summed, the caches in use and the retired caches' sums, all read under the
     *         registry lock, where adoptions happen: outside it, a cache adopted during the sum was counted in neither
     *         place, or its slack twice (a dead cache's pending slabs collected into its adopter). O(caches and their
     *         pending slabs' bitmap words).
     */
    public Counted counted() {
        registryLock.lock();
        try {
            long live = retiredLive, mallocs = retiredMallocs, frees = retiredFrees, peak = 0;
            long rounding = retiredRounding;
            LocalHeap[] list = all;
            for (LocalHeap c : list) {
                live += c.liveBytes(); // with the slack of blocks other threads freed, counted at their block size
                rounding += c.mediumRounding;
                mallocs += c.mallocs;
                frees += c.frees;
                peak = Math.max(peak, c.peak);
            }
            return new Counted(live, mallocs, frees, peak, soloPeak, list.length, singleUser(), rounding);
        } finally {
            registryLock.unlock();
        }
    }

    /**
     * The heap's counters as the thread caches keep them.
     *
     * @param live live bytes, the retired caches' included
     * @param mallocs mallocs, the retired caches' included
     * @param frees frees, the retired caches' included
     * @param cachePeak the largest peak of a cache in use
     * @param soloPeak the heap's exact peak while one cache alone counted (see {@link #foldSoloPeak})
     * @param caches the caches in use
     * @param singleUser {@link #singleUser()}, asked under the registry lock with the rest: asked after it, a second
     *        cache that counted meanwhile made the heap's peak the sampled one with a {@code soloPeak} read before that
     *        cache folded the first one's peak in (a review saw a 200 KB peak reported as 64 bytes)
     * @param mediumRounding the rounding of the live medium blocks ({@link LocalHeap#mediumRounding}), the retired
     *        caches' included
     */
    public record Counted(long live, long mallocs, long frees, long cachePeak, long soloPeak, int caches,
            boolean singleUser, long mediumRounding) {}

    /**
     * @return true while one platform thread alone has used the heap (and no virtual thread): its cache's peak
     *         is then the heap's exact peak. A cache that only resized blocks in place counts as used: its live bytes
     *         and peak moved with no malloc or free counted (a review found a peak below the live bytes that way).
     */
    public boolean singleUser() {
        if (adopted != 0) return false;
        LocalHeap[] list = all;
        int used = 0;
        for (LocalHeap c : list) {
            usersLooked++;
            if (!c.neverCounted() && ++used > 1) return false;
        }
        return true;
    }

    /**
     * @return {@link #singleUser()} negated, and once it has been seen so, for good, without looking at the caches
     *         again: for the page-run paths that sample the peak of a heap several threads use, which asked on every
     *         call and read every cache each time (O(threads) a malloc of 300 KB). A heap stops being used by one
     *         thread when a second cache counts or a cache is adopted, and keeps that answer from then on (singleUser
     *         could turn true again only where a cache's one count, a free counted twice, is taken back); a sample
     *         taken while one thread alone uses the heap is harmless: statistics then read that cache's exact peak,
     *         not the samples. Racy: two threads may both look.
     */
    public boolean severalUsers() {
        if (severalUsersSeen) return true;
        if (singleUser()) return false;
        severalUsersSeen = true;
        return true;
    }

    /** Set once {@link #severalUsers} has seen a second user; never cleared. */
    private volatile boolean severalUsersSeen;

    /** Caches {@link #singleUser} has looked at (racy; for tests: a walk that must stay off per-operation paths). */
    private long usersLooked;

    /** @return the caches {@link #singleUser} has looked at since the heap opened (for tests) */
    public long usersLooked() {
        return usersLooked;
    }

    /** @return the number of striped caches shared by virtual threads */
    public int stripeCount() {
        return stripes.length;
    }
}
