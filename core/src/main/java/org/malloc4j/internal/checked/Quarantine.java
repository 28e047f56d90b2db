package org.malloc4j.internal.checked;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import org.malloc4j.HeapDamage;
import org.malloc4j.internal.small.LocalHeap;
import org.malloc4j.internal.small.StripeLock;

/**
 * Freed blocks waiting before their memory is reused, first in first out, bounded in bytes: while a block waits,
 * its poison shows any write through a dangling pointer.
 *
 * <p><b>One ring per thread.</b> A platform thread's frees go to a ring of its own: most pushes take no lock and no
 * fenced instruction (a striped lock cost a quarter of a CHECKED malloc/free pair, two fenced instructions each free,
 * see docs/benchmarks.md, "Diagnostics overhead"); the ring's own lock is taken once a batch, to evict
 * ({@link Ring#addSlow}). Virtual threads share a few striped rings, each used under its {@link StripeLock} (never
 * {@code synchronized}: it must not pin them), so a million virtual threads make no more rings than there are
 * stripes. A dead thread's ring is emptied by a live thread ({@link #reapDead}): one that joins, one whose ring evicts
 * ({@link #reapSome}, every {@link Ring#REAP_EVERY} evictions), or stats(), trim() and a refused malloc; its blocks
 * leave with the usual checks.
 *
 * <p><b>Bounds.</b> The capacity is shared by the rings in use: each may hold {@code capacity / rings} bytes, its
 * share, and a block larger than that share is released at once. A ring holds no more than its lease, the bytes it
 * took from {@link #pool}, and the leases together never exceed the capacity: so the rings together never hold more
 * than the capacity, at any instant, idle threads' rings included. A ring short of its share, when the pool is short
 * too, takes lease back from rings over theirs ({@link #reclaim}) by evicting their oldest blocks under their lock:
 * an idle thread's ring gives up what its share lost when others need it, not at its own next free only; a reclaim
 * looks only at the rings that may give some (amortised O(1) a free, {@link #reclaim}). What a
 * reclaim cannot take is a ring's reservation, the room its holder may still push into without the lock (at most 15
 * blocks like its last and a sixteenth of its share): a push within it never races a lower lease, and none past it
 * is made without the lock. So the bound costs no fenced instruction on most frees, where a bound checked at each
 * push against a lease that others lower would cost one (a store-load fence, or a lock) on every free. Before
 * 2026-12-07 a joining ring overdrew the pool while idle rings kept their old shares, and the rings held up to twice
 * the capacity (and before leases, capacity * (1 + 1/2 + ... + 1/N) for N threads that joined one after another). A
 * block is charged its red zones and its front with its bytes ({@link #charge}), so empty blocks cannot pile up
 * without bound either, nor aligned ones.
 *
 * <p>The engine never calls back into the quarantine, so evicting while holding a stripe's lock makes no lock
 * cycle, and the path stays free of Java garbage.
 */
final class Quarantine {
    /** An entry's size field holds the program bytes below this bit, and the block's front from it up. */
    private static final int FRONT_SHIFT = 48;
    private static final long SIZE_BITS = (1L << FRONT_SHIFT) - 1;

    /**
     * @return what a block of {@code size} program bytes behind a front of {@code front} bytes costs the quarantine:
     *         its front (the header, and for an aligned block the padding before it) and tail red zone, memory it holds
     *         as much as its contents (a quarantine of 16-byte blocks charged 16 bytes each held three times its
     *         capacity; one that charged 32 bytes for any front held 125 times its capacity in empty blocks aligned
     *         to 4 KiB, a review found on 2026-12-07)
     */
    static long charge(long size, long front) {
        return front + size + RedZones.TAIL;
    }

    private final long capacity;
    /** Rings for virtual threads, chosen by thread id, each used under its lock. */
    private final Ring[] stripes;
    /**
     * Each platform thread's slot holding its ring, emptied when the heap closes ({@link #drain}). A slot of a JDK
     * class, not the ring: a thread's entry outlives the heap in every thread that freed into it and lives on, and a
     * ring there, of a class of this library's, kept its class loader reachable (a program that loaded the library in
     * a loader of its own could never unload it: LoaderUnloadsAfterItsHeapsCloseTest), and its arrays with it.
     */
    private final ThreadLocal<AtomicReference<Ring>> local = ThreadLocal.withInitial(AtomicReference::new);
    /** Set by {@link #drain} (under the registry lock): a ring registered after it is put in no slot. */
    private boolean drained;
    /**
     * The first platform thread's ring, and its thread: two loads instead of the ThreadLocal's probe for the common
     * case of one thread. Only that thread can see {@code primaryThread} equal to itself.
     */
    private Ring primary;
    private Thread primaryThread;
    /** Guards the list of rings, the count of rings in use and reaping. */
    private final ReentrantLock registryLock = new ReentrantLock();
    /** Every platform thread's ring, for statistics, reaping and draining. */
    private volatile Ring[] exclusive = new Ring[0];
    private int reapCursor;
    /** Rings that took a block: platform threads' rings, and stripes once a virtual thread used them. */
    private int inUse;
    /** The bytes each ring may hold: the capacity shared by the rings in use. */
    private volatile long share;
    /**
     * The bytes of the capacity no ring holds a lease on ({@link Ring#lease}): the capacity less every ring's lease,
     * never below zero. Guarded by the registry's lock.
     */
    private long pool;

    /** What leaves the quarantine: checked, then given back to the engine. */
    interface Evictor {
        /**
         * Releases the block at {@code p}, through the evicting thread's own cache {@code own} when it is not null;
         * returns what was found damaged in it, or null.
         */
        HeapDamage evict(long p, LocalHeap own);
    }

    private final Evictor evictor;
    /** Damage found in dead threads' rings outside a free, for the next {@link #takeUnreported} or drain. */
    private final List<HeapDamage> unreported = new ArrayList<>();

    /**
     * @param capacityBytes the bytes all rings together may hold
     * @param evictor checks a block that leaves and gives it back to the engine
     */
    Quarantine(long capacityBytes, Evictor evictor) {
        this.capacity = capacityBytes;
        this.evictor = evictor;
        int n = Integer.highestOneBit(Math.max(1, Runtime.getRuntime().availableProcessors()) * 2 - 1) << 1;
        this.stripes = new Ring[n];
        for (int i = 0; i < n; i++) stripes[i] = new Ring(null, null);
        this.share = capacityBytes;
        this.pool = capacityBytes;
    }

    /**
     * Adds the freed block at {@code p} of {@code size} bytes to the calling thread's ring and evicts that ring's
     * oldest blocks while it holds more than {@code limit}. The caller read the share ({@link #share()}) and found the
     * block {@link #fits} in it; a block that does not, the caller gives back to the engine itself.
     *
     * @param limit the share the caller read
     * @param own the calling thread's own cache, or null ({@link org.malloc4j.internal.HeapCore#ownCache})
     * @return the first damage found in a block that left, or null
     */
    HeapDamage add(long p, long size, long front, long limit, LocalHeap own) {
        long entry = size | (front << FRONT_SHIFT);
        Thread t = Thread.currentThread();
        if (primaryThread == t) return primary.add(p, entry, limit, evictor, this, own);
        if (!t.isVirtual()) {
            AtomicReference<Ring> slot = local.get();
            Ring r = slot.getPlain();
            if (r == null) r = register(slot);
            HeapDamage reaped = r.joined ? null : join(r);
            HeapDamage d = r.add(p, entry, limit, evictor, this, own);
            if (reaped == null) return d;
            if (d != null) keep(List.of(d));
            return reaped;
        }
        Ring s = stripes[(int) t.threadId() & (stripes.length - 1)];
        s.lock.lock();
        try {
            if (!s.joined) countInUse(s);
            return s.add(p, entry, limit, evictor, this, null);
        } finally {
            s.lock.unlock();
        }
    }

    /** A platform thread's first free: its ring joins the list and its slot in {@link #local}. */
    private Ring register(AtomicReference<Ring> slot) {
        Ring ring = new Ring(Thread.currentThread(), slot);
        registryLock.lock();
        try {
            if (!drained) slot.setPlain(ring);
            Ring[] list = exclusive;
            Ring[] grown = Arrays.copyOf(list, list.length + 1);
            grown[list.length] = ring;
            exclusive = grown;
            if (primary == null) {
                primary = ring;
                primaryThread = ring.thread;
            }
            countInUse(ring);
        } finally {
            registryLock.unlock();
        }
        return ring;
    }

    /**
     * A new thread's ring takes its first block: the rings of a few dead threads are emptied on the way (amortised
     * O(1)), so that 10,000 short-lived threads leave no quarantined memory behind.
     *
     * @return the first damage found in a block that left, or null
     */
    private HeapDamage join(Ring ring) {
        List<HeapDamage> found = new ArrayList<>();
        reapDead(REAP_BUDGET, found);
        ring.joined = true;
        if (found.isEmpty()) return null;
        keep(found.subList(1, found.size())); // the free throws the first; the others wait for verify() or close()
        return found.getFirst();
    }

    /**
     * A ring evicted for the {@link Ring#REAP_EVERY}th time: the rings of a few dead threads are emptied on the way,
     * so that a heap whose threads free on, with none joining, does not keep a dead thread's blocks and its share of
     * the capacity (until 2026-12-07 only a join, a refused malloc, stats(), trim() or close() reaped). Never waits
     * for the registry's lock, and makes no garbage unless a dead thread's ring is there.
     *
     * @param first the damage the evicting free found already, or null
     * @return {@code first}, or when it is null the first damage found in the dead threads' blocks (the free throws
     *         it; the others wait for verify() or close(), as on a join)
     */
    HeapDamage reapSome(HeapDamage first) {
        if (exclusive.length == 0 || !registryLock.tryLock()) return first;
        try {
            Ring[] list = exclusive;
            int looked = Math.min(REAP_BUDGET, list.length);
            boolean dead = false;
            for (int i = 0; i < looked && !dead; i++) dead = !list[(reapCursor + i) % list.length].thread.isAlive();
            if (!dead) {
                reapCursor = (reapCursor + looked) % list.length;
                return first;
            }
            List<HeapDamage> found = new ArrayList<>();
            reapDead(REAP_BUDGET, found);
            if (found.isEmpty()) return first;
            if (first != null) {
                keep(found);
                return first;
            }
            keep(found.subList(1, found.size()));
            return found.getFirst();
        } finally {
            registryLock.unlock();
        }
    }

    /** The rings a reaping looks at, from the rotating cursor. */
    private static final int REAP_BUDGET = 4;

    /** Keeps damage found where no call could report it, for the next {@link #takeUnreported} or drain. */
    void keep(List<HeapDamage> found) {
        if (found.isEmpty()) return;
        registryLock.lock();
        try {
            unreported.addAll(found);
        } finally {
            registryLock.unlock();
        }
    }

    /**
     * Empties what the calling thread may empty without racing another thread's ring: the dead threads' rings, the
     * caller's own ring and the virtual threads' stripes (each under its lock). Other live threads' rings keep their
     * blocks. The damage found is kept ({@link #takeUnreported}).
     *
     * @return whether any block left (counted by this call: the count of every ring, which other threads' frees
     *         keep raising, said none had when this call had emptied the caller's ring, and a refused malloc gave up
     *         without its retry; a review, 2026-12-07)
     */
    boolean releaseOwn() {
        List<HeapDamage> found = new ArrayList<>();
        int released = reapDead(exclusive.length, found);
        Thread t = Thread.currentThread();
        if (primaryThread == t) {
            released += primary.drainLocked(found, evictor);
        } else if (!t.isVirtual()) {
            for (Ring r : exclusive) if (r.thread == t) released += r.drainLocked(found, evictor);
        }
        released += drainStripes(found);
        keep(found);
        return released > 0;
    }

    /** A ring takes its first block: the capacity is shared by one more ring. */
    private void countInUse(Ring ring) {
        registryLock.lock();
        try {
            ring.joined = ring.thread == null; // a thread's ring has joined once it has reaped ({@link #join})
            inUse++;
            share = capacity / inUse;
            shareChanged();
        } finally {
            registryLock.unlock();
        }
    }

    /**
     * A ring whose lease is short of the share {@code limit} that its free read, and of {@code need} (what it holds
     * and wants room for), takes what the pool has, up to the share; when the pool has less than the ring needs,
     * rings over their share give back first ({@link #reclaim}). The pool never goes below zero: the leases together
     * never exceed the capacity. A thread's ring, whose holder holds no lock here, waits once for a ring over its
     * share that was busy (evicting down to its share, which gives the lease back) and tries again: without it, a
     * thread that joined while another evicted its old share away got no lease, and its blocks skipped the
     * quarantine. A stripe's holder, under the stripe's lock, never waits (two could wait for each other).
     *
     * @return the first damage found in a block a reclaim evicted, or null
     */
    HeapDamage takeLease(Ring ring, long limit, long need, LocalHeap own) {
        HeapDamage d = null;
        for (boolean mayWait = ring.thread != null; ; mayWait = false) {
            Ring busy = null;
            registryLock.lock();
            try {
                long most = Math.min(limit, share) - ring.lease;
                if (most <= 0) return d;
                long short_ = Math.min(most, need - ring.lease) - pool;
                if (short_ > 0) {
                    passedOver = null;
                    d = first(d, reclaim(ring, short_, own));
                    if (mayWait && pool < Math.min(most, need - ring.lease)) busy = passedOver;
                    passedOver = null;
                }
                if (busy == null) {
                    long take = Math.min(most, pool);
                    if (take > 0) {
                        ring.lease += take;
                        pool -= take;
                        setOver(ring);
                    }
                    return d;
                }
            } finally {
                registryLock.unlock();
            }
            busy.lock.lock(); // its holder gives back what is over its share before it lets go
            busy.lock.unlock();
        }
    }

    /**
     * Takes back up to {@code need} bytes of lease for the pool from the rings over their share that may give some
     * ({@link #over}), until it has them. Each gives what its oldest blocks free ({@link Ring#yieldLease}): an idle
     * thread's ring gives up its blocks to the rings that free, as an active one would at its next free. A ring whose
     * lock is held (its holder evicting, or waiting for this lock) is passed over: it gives back itself. A ring left
     * over its share only by its reservation, which no reclaim can take, is set aside ({@link Ring#parked}) until its
     * holder's next slow add gives back its lease over the share itself, or the share changes. So a reclaim visits, at
     * most, the busy rings and the rings it leaves at their share or sets aside, each leaving the list until a join or
     * a death (which already cost O(rings)) or its holder's slow add puts it back: amortised O(1) a free. Until
     * 2026-12-07 every reclaim read every ring's lease (platform threads' rings and the stripes), and a ring kept short
     * by an idle ring's reservation reclaimed at each of its slow adds, every free when it had no room at all: O(rings)
     * a free (QuarantineTest.aShortRingReadsNoLeaseOfRingsThatCannotGiveAny). Looking at eight rings only, before
     * that, left a joining thread no lease once more than eight lay before the idle ring holding the capacity.
     * The caller holds the registry's lock.
     *
     * @return the first damage found in a block that left; any other is kept ({@link #takeUnreported})
     */
    private HeapDamage reclaim(Ring taker, long need, LocalHeap own) {
        HeapDamage first = null;
        long got = 0;
        for (int j = 0; j < overCount && got < need; ) {
            Ring v = over[j];
            leasesRead++;
            if (v == taker || !v.lock.tryLock()) {
                if (v != taker && passedOver == null) passedOver = v;
                j++;
                continue;
            }
            try {
                long before = v.lease;
                HeapDamage d = v.yieldLease(share, need - got, evictor, this, own);
                got += before - v.lease;
                pool += before - v.lease;
                first = first(first, d);
                // Left over its share with less than asked: its reservation holds the rest. Set under its lock, which
                // its holder's slow add reads it under.
                if (v.lease > share && got < need) v.parked = true;
            } finally {
                v.lock.unlock();
            }
            if (!setOver(v)) continue; // it left the list: another ring is at j now
            j++;
        }
        return first;
    }

    /**
     * The rings over their share that a reclaim may take lease from: every ring whose lease is over the share and that
     * is not {@link Ring#parked}, in {@code over[0, overCount)}, each at its {@link Ring#overAt}. Guarded by the
     * registry's lock, like the leases and the share it follows.
     */
    private Ring[] over = new Ring[8];
    private int overCount;
    /** The rings' leases that reclaims have read, one per ring looked at (for tests). */
    private long leasesRead;

    /**
     * Puts {@code r} in or out of {@link #over} as its lease and the share say, after either changed. The caller holds
     * the registry's lock. @return whether {@code r} is in the list
     */
    private boolean setOver(Ring r) {
        boolean in = r.lease > share && !r.parked;
        if (in && r.overAt < 0) {
            if (overCount == over.length) over = Arrays.copyOf(over, overCount * 2);
            r.overAt = overCount;
            over[overCount++] = r;
        } else if (!in && r.overAt >= 0) {
            Ring last = over[--overCount];
            over[r.overAt] = last;
            last.overAt = r.overAt;
            over[overCount] = null;
            r.overAt = -1;
        }
        return in;
    }

    /**
     * The share changed: every ring's reservation may now hold less or more than its excess, so none stays set aside,
     * and the list is made again. O(rings), as the join or death that changed the share. The caller holds the
     * registry's lock.
     */
    private void shareChanged() {
        for (Ring r : exclusive) {
            r.parked = false;
            setOver(r);
        }
        for (Ring s : stripes) {
            s.parked = false;
            setOver(s);
        }
    }

    /** @return the leases that reclaims have read, one per ring looked at, since this quarantine was made (for tests) */
    long leasesRead() {
        registryLock.lock();
        try {
            return leasesRead;
        } finally {
            registryLock.unlock();
        }
    }

    /** The first ring over its share that a {@link #reclaim} found busy, for {@link #takeLease} to wait for. */
    private Ring passedOver;

    /** @return {@code first} if not null, else {@code d}; a second damage is kept for the next report */
    HeapDamage first(HeapDamage first, HeapDamage d) {
        if (first == null) return d;
        if (d != null) keep(List.of(d));
        return first;
    }

    /**
     * A ring whose lease is more than the share {@code limit} that its free read, and which has evicted its blocks
     * and reserved within it, gives the rest back to the pool; a ring a reclaim set aside ({@link Ring#parked}) comes
     * back to {@link #over}. The ring's holder calls it under the ring's lock.
     */
    void giveBackLease(Ring ring, long limit) {
        registryLock.lock();
        try {
            if (ring.lease > limit) {
                pool += ring.lease - limit;
                ring.lease = limit;
            }
            ring.parked = false; // its holder reserved anew: a reclaim may take what it holds over the share
            setOver(ring);
        } finally {
            registryLock.unlock();
        }
    }

    /**
     * Empties the rings of dead threads, looking at up to {@code budget} rings from a rotating cursor; their blocks
     * are checked as they leave (a thread's last frees are checked like any other), and what is found is added to
     * {@code found}.
     */
    private int reapDead(int budget, List<HeapDamage> found) {
        int released = 0;
        registryLock.lock();
        try {
            for (int looked = 0; looked < budget; looked++) {
                Ring[] list = exclusive;
                if (list.length == 0) return released;
                if (reapCursor >= list.length) reapCursor = 0;
                Ring r = list[reapCursor];
                if (r.thread.isAlive()) {
                    reapCursor++;
                } else {
                    // Everything the dead thread wrote is visible: its end happens-before isAlive's false.
                    released += r.drainInto(found, evictor);
                    remove(r);
                }
            }
        } finally {
            registryLock.unlock();
        }
        return released;
    }

    /** Empties the rings of every dead thread; damage found is kept for {@link #takeUnreported}. */
    void reapAll() {
        List<HeapDamage> found = new ArrayList<>();
        reapDead(exclusive.length, found);
        keep(found);
    }

    /** @return the damage found in dead threads' blocks outside a free and not reported yet, which it forgets */
    List<HeapDamage> takeUnreported() {
        registryLock.lock();
        try {
            List<HeapDamage> found = List.copyOf(unreported);
            unreported.clear();
            return found;
        } finally {
            registryLock.unlock();
        }
    }

    /**
     * Empties the virtual threads' stripes, each under its lock, adding the damage found to {@code found}.
     * @return the blocks that left
     */
    private int drainStripes(List<HeapDamage> found) {
        int released = 0;
        for (Ring s : stripes) {
            s.lock.lock();
            try {
                released += s.drainInto(found, evictor);
            } finally {
                s.lock.unlock();
            }
        }
        return released;
    }

    /** The caller holds the registry lock. */
    private void remove(Ring dead) {
        Ring[] list = exclusive;
        Ring[] shrunk = new Ring[list.length - 1];
        int j = 0;
        for (Ring r : list) if (r != dead) shrunk[j++] = r;
        exclusive = shrunk;
        dead.slot.setPlain(null);
        if (primary == dead) {
            primaryThread = null;
            primary = null;
        }
        pool += dead.lease; // the dead thread's ring is empty: its lease goes back
        dead.lease = 0;
        if (dead.overAt >= 0) {
            dead.parked = true;
            setOver(dead);
        }
        inUse--;
        share = capacity / Math.max(1, inUse);
        shareChanged();
    }

    /**
     * Empties the quarantine: every stripe under its lock, every thread's ring (the caller makes sure no thread
     * frees meanwhile: the heap is closing).
     *
     * @return every damage found in the blocks that left, and any found earlier in dead threads' rings
     */
    List<HeapDamage> drain() {
        List<HeapDamage> found = new ArrayList<>(takeUnreported());
        drainStripes(found);
        registryLock.lock();
        try {
            drained = true;
            for (Ring r : exclusive) {
                r.drainInto(found, evictor);
                r.slot.setPlain(null);
            }
            local.remove(); // the calling thread's entry goes at once; other threads' go when their maps expunge them
        } finally {
            registryLock.unlock();
        }
        return found;
    }

    /**
     * @return {blocks, program bytes} held now: the stripes read under their locks, the threads' rings racily (exact
     *         once the threads that free have quiesced)
     */
    long[] held() {
        return Arrays.copyOf(heldCharged(), 2);
    }

    /**
     * @return {@link #held()} and, third, the bytes charged for those blocks: their program bytes and red zones (see
     *         {@link #charge})
     */
    long[] heldCharged() {
        long blocks = 0, bytes = 0, charged = 0;
        for (Ring s : stripes) {
            s.lock.lock();
            try {
                blocks += s.count();
                bytes += s.pushedBytes - s.poppedBytes;
                charged += s.charged();
            } finally {
                s.lock.unlock();
            }
        }
        for (Ring r : exclusive) { // a reclaim's pops may show before the pushes they popped: none below zero
            blocks += Math.max(0, r.count());
            bytes += Math.max(0, r.pushedBytes - r.poppedBytes);
            charged += Math.max(0, r.charged());
        }
        return new long[] {blocks, bytes, charged};
    }

    /** @return the number of platform threads' rings (for tests: virtual threads make none) */
    int threadRings() {
        return exclusive.length;
    }

    /** @return whether a block of {@code size} bytes behind {@code front}, with its red zones, fits in {@code share} */
    static boolean fits(long size, long front, long share) {
        return charge(size, front) <= share;
    }

    /** @return the bytes one ring may hold now: its share of the capacity */
    long share() {
        return share;
    }

    /**
     * One FIFO ring of addresses with their sizes. Its holder (its thread, or for a stripe whoever holds its lock)
     * pushes; a push within the holder's reservation takes no lock ({@link #add}). Every pop (an eviction, a drain, a
     * reclaim by another ring's holder) is made under {@link #lock}.
     */
    private static final class Ring {
        private static final VarHandle TAIL;

        static {
            try {
                TAIL = MethodHandles.lookup().findVarHandle(Ring.class, "tail", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        /** The fewest blocks that leave a full ring at once (see {@link #add}). */
        static final int BATCH = 16;
        /**
         * The blocks a slow add ({@link #addSlow}) pushes and reserves room for, the room for all but the first pushed
         * without the lock: as many as a batch frees, so that a ring at its share takes its lock once a batch.
         */
        static final int RESERVE = 16;
        /** A ring's evictions between two looks for dead threads' rings ({@link Quarantine#reapSome}). */
        static final int REAP_EVERY = 16;
        /** The owner, or null for a stripe. */
        final Thread thread;
        /** The owner's slot in {@link Quarantine#local}, or null for a stripe. */
        final AtomicReference<Ring> slot;
        /**
         * Guards the pops: a stripe's holder takes it for every add, a thread's ring for its slow adds only, another
         * ring's holder (by {@code tryLock}, under the registry's lock) to reclaim this ring's lease.
         */
        final StripeLock lock = new StripeLock();
        long[] addresses = new long[64];
        long[] sizes = new long[64];
        /** Blocks popped ever, and their program bytes and charge: written under the lock. */
        long head, poppedBytes, poppedCharged;
        /**
         * Blocks pushed ever ({@code tail}, published with release semantics after the block's slot, so that a
         * reclaim under the lock reads every slot below the tail it reads), and their program bytes and charge: written
         * by the holder alone.
         */
        long tail, pushedBytes, pushedCharged;
        /**
         * What the holder may push without the lock: up to this tail and this charge pushed. Written by the holder
         * under the lock; a reclaim leaves the ring a lease of at least {@code reservedCharged - poppedCharged}, the
         * most it may hold before its holder takes the lock again.
         */
        long reservedTail, reservedCharged;
        /**
         * The bytes of the capacity this ring took from the pool, the most it may hold (charged): written under the
         * registry's lock, by the holder ({@link #takeLease}, {@link #giveBackLease}) or, under this ring's lock too,
         * by a reclaim ({@link #yieldLease}); the holder reads it under this ring's lock.
         */
        long lease;
        /** Counted among the rings in use, and (a thread's ring) has reaped on its first free. */
        boolean joined;
        /**
         * Over its share only by the reservation its holder may still push into, which no reclaim can take: left out
         * of {@link Quarantine#over} until its holder's next slow add or a change of the share. Registry's lock.
         */
        boolean parked;
        /** Its place in {@link Quarantine#over}, or -1. Guarded by the registry's lock. */
        int overAt = -1;
        /** The times {@link #add} evicted, for {@link #REAP_EVERY}. */
        int evictions;

        Ring(Thread thread, AtomicReference<Ring> slot) {
            this.thread = thread;
            this.slot = slot;
        }

        /** @return the blocks held (racy for another thread's ring, exact under its lock or once it is quiescent) */
        int count() {
            return (int) (tail - head);
        }

        /** @return the bytes charged for the blocks held (exact for the holder under the lock) */
        long charged() {
            return pushedCharged - poppedCharged;
        }

        /**
         * Adds a block. Within the reservation the holder took at its last slow add it is a store of the block and its
         * counts, no lock, no fenced instruction; past it, {@link #addSlow}.
         *
         * @return the first damage found (the free throws it); any other found in this call is kept by {@code more}
         */
        HeapDamage add(long p, long entry, long limit, Evictor evictor, Quarantine more, LocalHeap own) {
            long size = entry & SIZE_BITS, c = charge(size, entry >>> FRONT_SHIFT);
            long t = tail;
            if (t < reservedTail && pushedCharged + c <= reservedCharged) {
                int i = (int) t & (addresses.length - 1);
                addresses[i] = p;
                sizes[i] = entry;
                pushedBytes += size;
                pushedCharged += c;
                TAIL.setRelease(this, t + 1);
                return null;
            }
            return addSlow(p, entry, c, limit, evictor, more, own);
        }

        /**
         * {@link #add} past the reservation, under the lock: a lease short of the share {@code limit} takes from the
         * pool (or from rings over their share, {@link Quarantine#reclaim}); the ring then evicts its oldest blocks
         * until this one fits in its lease and share, at least {@link #BATCH} of them (an eighth of a ring of fewer
         * than 128 blocks); a block that fits in no room left leaves at once, checked as any other. Then the holder
         * reserves what it may push next without the lock: the room left, at most {@link #RESERVE} - 1 blocks like
         * this one and a sixteenth of the share (what a reclaim cannot take from it while it is idle), and a lease
         * over the share goes back to the pool. Every {@link #REAP_EVERY} evictions, dead threads' rings are emptied on the way
         * ({@link Quarantine#reapSome}).
         */
        private HeapDamage addSlow(long p, long entry, long c, long limit, Evictor evictor, Quarantine more,
                LocalHeap own) {
            long want = c * RESERVE;
            HeapDamage d = null;
            // Before this ring's lock, so that a wait for a busy ring holds no lock (a stripe's holder holds the
            // stripe's, and never waits). Racy reads, a reclaim's under the lock: a guess of what to ask for; the
            // bound below reads them under the lock.
            if (lease < limit && charged() + want > lease) d = more.takeLease(this, limit, charged() + want, own);
            lock.lock();
            try {
                long bound = Math.min(lease, limit);
                if (charged() + c > bound) d = more.first(d, evict(bound - c, evictor, more, own));
                if (c > bound) {
                    d = more.first(d, evictor.evict(p, own)); // an empty ring has no room for it
                } else {
                    push(p, entry, c);
                }
                if (count() + RESERVE > addresses.length) grow();
                reservedTail = tail + RESERVE;
                long room = Math.max(0, bound - charged());
                reservedCharged = pushedCharged + Math.min(room, Math.min(want - c, limit >>> 4));
                if (lease > limit || parked) more.giveBackLease(this, limit);
                return d;
            } finally {
                lock.unlock();
            }
        }

        /** {@link #addSlow}'s eviction: the oldest blocks until the ring's charge is at most {@code bound}. */
        private HeapDamage evict(long bound, Evictor evictor, Quarantine more, LocalHeap own) {
            HeapDamage d = evictOver(bound, pushedCharged, tail, Math.min(BATCH, count() >>> 3), evictor, null, more,
                    own);
            return (++evictions & (REAP_EVERY - 1)) == 0 ? more.reapSome(d) : d;
        }

        /**
         * Another ring's holder, under the registry's lock and this ring's, takes back up to {@code need} bytes of
         * this ring's lease over {@code share}: it evicts this ring's oldest blocks, those its tail shows, while the
         * most the ring may hold before its holder takes the lock again (what it holds and what is left of the
         * reservation) is over the lease it is to keep; the lease kept is never below that, so that a push racing this
         * reclaim stays within the lease.
         *
         * @return the first damage found in a block that left; any other is kept by {@code more}
         */
        HeapDamage yieldLease(long share, long need, Evictor evictor, Quarantine more, LocalHeap own) {
            long goal = Math.max(share, lease - need);
            long end = (long) TAIL.getAcquire(this);
            HeapDamage d = evictOver(goal, reservedCharged, end, 0, evictor, null, more, own);
            lease = Math.max(goal, reservedCharged - poppedCharged);
            return d;
        }

        /** Evicts every block (its holder under the lock, or a dead thread's ring); @return how many left */
        int drainInto(List<HeapDamage> found, Evictor evictor) {
            int before = count();
            evictOver(-1, pushedCharged, tail, 0, evictor, found, null, null);
            return before - count();
        }

        /** {@link #drainInto} under the lock: the holder's own ring, which a reclaim may be reading. */
        int drainLocked(List<HeapDamage> found, Evictor evictor) {
            lock.lock();
            try {
                return drainInto(found, evictor);
            } finally {
                lock.unlock();
            }
        }

        /**
         * Evicts the oldest blocks below {@code end} while {@code base} less the charge popped is over {@code limit} or
         * fewer than {@code atLeast} have left; returns the first damage found, and adds each to {@code found} unless
         * it is null (else {@code more} keeps all but the first). The pop is written out here, not called: C2 compiles
         * a free before the ring first fills, when no block has been evicted, and a pop called from this loop then
         * stayed a call (a cold site, over the 35 bytes C2 inlines there).
         */
        private HeapDamage evictOver(long limit, long base, long end, int atLeast, Evictor evictor,
                List<HeapDamage> found, Quarantine more, LocalHeap own) {
            HeapDamage first = null;
            for (int evicted = 0; (base - poppedCharged > limit || evicted < atLeast) && head < end; evicted++) {
                int i = (int) head & (addresses.length - 1);
                long p = addresses[i];
                long entry = sizes[i], size = entry & SIZE_BITS;
                poppedBytes += size;
                poppedCharged += charge(size, entry >>> FRONT_SHIFT);
                head++;
                HeapDamage d = evictor.evict(p, own);
                if (d != null) {
                    if (found != null) found.add(d);
                    else if (first != null && more != null) more.keep(List.of(d));
                    if (first == null) first = d;
                }
            }
            return first;
        }

        /**
         * Adds block {@code p} under the lock, its entry the program bytes and, from {@link #FRONT_SHIFT} up, its
         * front.
         */
        private void push(long p, long entry, long c) {
            if (count() == addresses.length) grow();
            int i = (int) tail & (addresses.length - 1);
            addresses[i] = p;
            sizes[i] = entry;
            pushedBytes += entry & SIZE_BITS;
            pushedCharged += c;
            TAIL.setRelease(this, tail + 1);
        }

        /** Doubles the arrays, under the lock (a reclaim reads them under it). */
        private void grow() {
            int n = addresses.length, count = count();
            long[] a = new long[n * 2], z = new long[n * 2];
            for (int k = 0; k < count; k++) {
                int from = (int) (head + k) & (n - 1), to = (int) (head + k) & (2 * n - 1);
                a[to] = addresses[from];
                z[to] = sizes[from];
            }
            addresses = a;
            sizes = z;
        }
    }
}
