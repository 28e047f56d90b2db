package org.malloc4j.internal.checked;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import org.malloc4j.HeapDamage;
import org.malloc4j.internal.small.LocalHeap;

/**
 * Freed blocks waiting before their memory is reused, first in first out, bounded in bytes: while a block waits,
 * its poison shows any write through a dangling pointer.
 *
 * <p><b>One ring per thread.</b> A platform thread's frees go to a ring of its own, which only it touches: adding a
 * block takes no lock and no atomic instruction (a striped lock cost a quarter of a CHECKED malloc/free pair, two
 * fenced instructions each free, see docs/benchmarks.md, "Diagnostics overhead"). Virtual threads share a few striped
 * rings, each under its {@link ReentrantLock} (never {@code synchronized}: it must not pin them), so a million virtual
 * threads make no more rings than there are stripes. A dead thread's ring is emptied by a live thread
 * ({@link #reapDead}): one that joins, one whose ring evicts ({@link #reapSome}, every {@link Ring#REAP_EVERY}
 * evictions), or stats(), trim() and a refused malloc; its blocks leave with the usual checks.
 *
 * <p><b>Bounds.</b> The capacity is shared by the rings in use: each may hold {@code capacity / rings} bytes, its
 * share, and a block larger than that share is released at once. A ring holds no more than its lease, the bytes it
 * took from {@link #pool} (under the registry's lock), and gives back what its share lost at its next free; only its
 * own thread can evict its blocks, so a ring that joins while the others still hold the shares they had may overdraw
 * the pool by up to the capacity, and takes no more than that: its blocks then leave at once until others give back.
 * So the rings together hold at most twice the capacity, and at most the capacity once every ring over its share has
 * had a free since (in both, but for the instant between a block's push and the eviction it causes).
 * Before leases, idle rings keeping the share they had let the rings of N threads that joined one after another hold
 * up to capacity * (1 + 1/2 + ... + 1/N); a review, 2026-12-07. A block is charged its red zones and its front with
 * its bytes ({@link #charge}), so empty blocks cannot pile up without bound either, nor aligned ones.
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
    private final ThreadLocal<Ring> local = ThreadLocal.withInitial(this::register);
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
     * down to minus the capacity (a new ring's overdraft while idle rings hold their old shares). Written under the
     * registry's lock; read without it to skip the lock when nothing is left to take.
     */
    private volatile long pool;

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
        for (int i = 0; i < n; i++) stripes[i] = new Ring(null);
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
            Ring r = local.get();
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

    /** A platform thread's first free: its ring joins the list (in {@link #local}'s initial value). */
    private Ring register() {
        Ring ring = new Ring(Thread.currentThread());
        registryLock.lock();
        try {
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
            released += primary.drainInto(found, evictor);
        } else if (!t.isVirtual()) {
            for (Ring r : exclusive) if (r.thread == t) released += r.drainInto(found, evictor);
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
        } finally {
            registryLock.unlock();
        }
    }

    /**
     * A ring whose lease is short of the share {@code limit} that its free read takes what the pool has, up to it,
     * overdrawing it by up to the capacity (none left then: the others' leases hold twice the capacity until they
     * give back). The ring's holder calls it: its own thread, or a virtual thread under the stripe's lock.
     */
    void takeLease(Ring ring, long limit) {
        if (pool <= -capacity) return; // nothing to take: no lock
        registryLock.lock();
        try {
            long take = Math.min(Math.min(limit, share) - ring.lease, pool + capacity);
            if (take <= 0) return;
            ring.lease += take;
            pool -= take;
        } finally {
            registryLock.unlock();
        }
    }

    /**
     * A ring whose lease is more than the share {@code limit} that its free read, and which has evicted its blocks
     * down to it, gives the rest back to the pool. The ring's holder calls it.
     */
    void giveBackLease(Ring ring, long limit) {
        registryLock.lock();
        try {
            pool += ring.lease - limit;
            ring.lease = limit;
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

    /** Empties the virtual threads' stripes, each under its lock, adding the damage found to {@code found}. */
    /** @return the blocks that left */
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
        if (primary == dead) {
            primaryThread = null;
            primary = null;
        }
        pool += dead.lease; // the dead thread's ring is empty: its lease goes back
        dead.lease = 0;
        inUse--;
        share = capacity / Math.max(1, inUse);
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
            for (Ring r : exclusive) r.drainInto(found, evictor);
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
                blocks += s.count;
                bytes += s.bytes;
                charged += s.charged;
            } finally {
                s.lock.unlock();
            }
        }
        for (Ring r : exclusive) {
            blocks += r.count;
            bytes += r.bytes;
            charged += r.charged;
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

    /** One FIFO ring of addresses with their sizes; guarded by its thread, or by its lock when it is a stripe. */
    private static final class Ring {
        /** The fewest blocks that leave a full ring at once (see {@link #add}). */
        static final int BATCH = 16;
        /** A ring's evictions between two looks for dead threads' rings ({@link Quarantine#reapSome}). */
        static final int REAP_EVERY = 16;
        /** The owner, or null for a stripe. */
        final Thread thread;
        final ReentrantLock lock;
        long[] addresses = new long[64];
        long[] sizes = new long[64];
        int head, count;
        /** Program bytes held, and what they are charged against the share ({@link #charge} each). */
        long bytes, charged;
        /**
         * The bytes of the capacity this ring took from the pool, the most it holds (charged): written by its holder
         * under the registry's lock ({@link #takeLease}, {@link #giveBackLease}), or by the reaper once the thread
         * ended.
         */
        long lease;
        /** Counted among the rings in use, and (a thread's ring) has reaped on its first free. */
        boolean joined;
        /** The times {@link #add} evicted, for {@link #REAP_EVERY}. */
        int evictions;

        Ring(Thread thread) {
            this.thread = thread;
            this.lock = thread == null ? new ReentrantLock() : null;
        }

        /**
         * Adds a block and, once the ring holds more than its lease or the share {@code limit}, evicts its oldest
         * blocks: at least {@link #BATCH} of them (an eighth of them in a ring of fewer than 128 blocks, the one just
         * added only when it is over the lease alone), and on until it holds no more than that. Evictions come every
         * few frees, not on every free: the free's own code stays small (C2 leaves the eviction loop a call of its
         * own) and the thread's cache, found once, serves a batch. A lease short of the share takes from the pool
         * first; a lease over it is given back after the eviction (so that no other ring can take it while these
         * blocks still hold it). Every {@link #REAP_EVERY} evictions, dead threads' rings are emptied on the way
         * ({@link Quarantine#reapSome}).
         *
         * @return the first damage found (the free throws it); any other found in this call goes to {@code more}
         */
        HeapDamage add(long p, long entry, long limit, Evictor evictor, Quarantine more, LocalHeap own) {
            if (lease < limit) more.takeLease(this, limit);
            push(p, entry);
            long bound = Math.min(lease, limit);
            HeapDamage d = charged > bound ? evict(bound, evictor, more, own) : null;
            if (lease > limit) more.giveBackLease(this, limit);
            return d;
        }

        /** {@link #add}'s eviction, a method of its own so that the free's code stays small. */
        private HeapDamage evict(long bound, Evictor evictor, Quarantine more, LocalHeap own) {
            HeapDamage d = evictOver(bound, 0, Math.min(BATCH, count >>> 3), evictor, null, more, own);
            return (++evictions & (REAP_EVERY - 1)) == 0 ? more.reapSome(d) : d;
        }

        /** Evicts every block; @return how many left */
        int drainInto(List<HeapDamage> found, Evictor evictor) {
            int before = count;
            evictOver(-1, 0, 0, evictor, found, null, null);
            return before - count;
        }

        /**
         * Evicts the oldest blocks while more than {@code limit} bytes are charged or fewer than {@code atLeast} have
         * left, and more than {@code keep} blocks are held; returns the first damage found, and adds each to
         * {@code found} unless it is null. The pop is written out here, not called: C2 compiles a free before the ring
         * first fills, when no block has been evicted, and a pop called from this loop then stayed a call (a cold
         * site, over the 35 bytes C2 inlines there).
         */
        private HeapDamage evictOver(long limit, int keep, int atLeast, Evictor evictor, List<HeapDamage> found,
                Quarantine more, LocalHeap own) {
            HeapDamage first = null;
            for (int evicted = 0; (charged > limit || evicted < atLeast) && count > keep; evicted++) {
                long p = addresses[head];
                long entry = sizes[head], size = entry & SIZE_BITS;
                bytes -= size;
                charged -= charge(size, entry >>> FRONT_SHIFT);
                head = (head + 1) & (addresses.length - 1);
                count--;
                HeapDamage d = evictor.evict(p, own);
                if (d != null) {
                    if (found != null) found.add(d);
                    else if (first != null && more != null) more.keep(List.of(d));
                    if (first == null) first = d;
                }
            }
            return first;
        }

        /** Adds block {@code p}, its entry the program bytes and, from {@link #FRONT_SHIFT} up, its front. */
        private void push(long p, long entry) {
            if (count == addresses.length) grow();
            int i = (head + count) & (addresses.length - 1);
            addresses[i] = p;
            sizes[i] = entry;
            count++;
            long size = entry & SIZE_BITS;
            bytes += size;
            charged += charge(size, entry >>> FRONT_SHIFT);
        }

        private void grow() {
            int n = addresses.length;
            long[] a = new long[n * 2], z = new long[n * 2];
            for (int i = 0; i < count; i++) {
                a[i] = addresses[(head + i) & (n - 1)];
                z[i] = sizes[(head + i) & (n - 1)];
            }
            addresses = a;
            sizes = z;
            head = 0;
        }
    }
}
