package org.malloc4j.internal.sites;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.StampedLock;

/**
 * The records of the live sampled blocks, by address, and the records whose stack is still a raw capture.
 *
 * <p>Striped tables of open addressing keyed by the primitive address (linear probing, deletion by backward shift, no
 * tombstones), each under a {@link StampedLock}: adding or removing a record takes one lock and allocates nothing
 * once a table has grown, where a {@code ConcurrentHashMap<Long, SiteRecord>} boxed the key, allocated a node and
 * updated its shared count with a second atomic instruction on every put and remove. Lookups read optimistically
 * (no write to shared memory) and take the read lock only when a writer got in the way.
 *
 * <p>Each stripe also keeps the last {@link #WAITING_PER_STRIPE} records it took, whose capture may not be resolved
 * yet: when a new one pushes the oldest out, the caller resolves that one if its block is still live. This bounds the
 * captures held at {@code STRIPES * WAITING_PER_STRIPE} with no queue nodes and no shared counter, and bounds the work
 * of one sample: one resolution (a few microseconds) at most, where a shared queue resolved its oldest 2,048 records
 * in one malloc every 2,048 samples (with every block recorded and kept, 100 of 200,000 mallocs took over a
 * millisecond, against 7 to 9 now, with no garbage collection in either run; docs/benchmarks.md).
 */
final class LiveRecords {
    private static final int STRIPES = 32;
    /** Records per stripe whose capture may still wait (4,096 in all, as {@link SiteRecorder#MAX_UNRESOLVED}). */
    static final int WAITING_PER_STRIPE = SiteRecorder.MAX_UNRESOLVED / STRIPES;
    static final int FIRST_CAPACITY = 16;

    private final Stripe[] stripes = new Stripe[STRIPES];

    LiveRecords() {
        for (int i = 0; i < STRIPES; i++) stripes[i] = new Stripe();
    }

    /** A table: keys (0 = empty slot) and records side by side, published together. */
    private record Table(long[] keys, SiteRecord[] records) {
        Table(int capacity) {
            this(new long[capacity], new SiteRecord[capacity]);
        }

        int mask() {
            return keys.length - 1;
        }
    }

    private static final class Stripe {
        final StampedLock lock = new StampedLock();
        /** Replaced whole when the stripe grows, so that an optimistic reader sees one consistent pair of arrays. */
        volatile Table table = new Table(FIRST_CAPACITY);
        int size;
        final SiteRecord[] waiting = new SiteRecord[WAITING_PER_STRIPE];
        int nextWaiting, waitingCount;
    }

    /** A 64-bit finalizer (murmur3's): block addresses share their low bits, the hash must not. */
    static long hash(long address) {
        long x = address;
        x ^= x >>> 33;
        x *= 0xff51afd7ed558ccdL;
        x ^= x >>> 33;
        x *= 0xc4ceb9fe1a85ec53L;
        return x ^ (x >>> 33);
    }

    private Stripe stripeOf(long h) {
        return stripes[stripeIndex(h)];
    }

    /** @return the stripe of a hash: its top five bits (the slot takes the low ones) */
    static int stripeIndex(long h) {
        return (int) (h >>> 59);
    }

    /** @return the first slot probed for a hash in a table of {@code capacity} slots */
    static int home(long h, int capacity) {
        return (int) h & (capacity - 1);
    }

    /**
     * Adds the record of a newly sampled block (its address is not in the table: the block it replaces was removed
     * when it was freed).
     *
     * @return the oldest record this stripe stopped holding as waiting, for the caller to resolve outside the lock
     *         when its block is still live, or null
     */
    SiteRecord add(SiteRecord r) {
        long h = hash(r.address);
        Stripe s = stripeOf(h);
        long stamp = s.lock.writeLock();
        try {
            Table t = s.table;
            if (2 * (s.size + 1) > t.keys.length) s.table = t = grown(t);
            int mask = t.mask(), i = home(h, t.keys.length);
            while (t.keys[i] != 0 && t.keys[i] != r.address) i = (i + 1) & mask;
            if (t.keys[i] == 0) s.size++;
            t.keys[i] = r.address;
            t.records[i] = r;
            SiteRecord displaced = s.waiting[s.nextWaiting];
            s.waiting[s.nextWaiting] = r;
            s.nextWaiting = (s.nextWaiting + 1) % WAITING_PER_STRIPE;
            if (s.waitingCount < WAITING_PER_STRIPE) s.waitingCount++;
            return displaced;
        } finally {
            s.lock.unlockWrite(stamp);
        }
    }

    private static Table grown(Table t) {
        Table g = new Table(t.keys.length * 2);
        int mask = g.mask();
        for (int j = 0; j < t.keys.length; j++) {
            long k = t.keys[j];
            if (k == 0) continue;
            int i = home(hash(k), g.keys.length);
            while (g.keys[i] != 0) i = (i + 1) & mask;
            g.keys[i] = k;
            g.records[i] = t.records[j];
        }
        return g;
    }

    /**
     * Runs {@code free} under the lock of {@code expected}'s stripe, and removes the record when it returns true, only
     * while {@code expected} is the record at its address: a free of the block by the program removes the record
     * first, under the same lock, so it cannot pass between the look and the free (the leak detector's reclaim).
     */
    boolean removeWhile(SiteRecord expected, java.util.function.BooleanSupplier free) {
        long h = hash(expected.address);
        Stripe s = stripeOf(h);
        long stamp = s.lock.writeLock();
        try {
            int i = slotOf(s.table, expected.address, h);
            if (i < 0 || s.table.records[i] != expected || !free.getAsBoolean()) return false;
            removeAt(s, i);
            return true;
        } finally {
            s.lock.unlockWrite(stamp);
        }
    }

    /** @return the slot of {@code address} in {@code t}, or -1 */
    private static int slotOf(Table t, long address, long h) {
        int mask = t.mask(), i = home(h, t.keys.length);
        while (t.keys[i] != address) {
            if (t.keys[i] == 0) return -1;
            i = (i + 1) & mask;
        }
        return i;
    }

    /** Empties slot {@code i} of the stripe's table, its write lock held. */
    private static void removeAt(Stripe s, int i) {
        Table t = s.table;
        int mask = t.mask();
        // Backward shift: move up each later entry of the run whose home slot is not in (i, j].
        for (int j = (i + 1) & mask; t.keys[j] != 0; j = (j + 1) & mask) {
            int home = home(hash(t.keys[j]), t.keys.length);
            if (((j - home) & mask) >= ((j - i) & mask)) {
                t.keys[i] = t.keys[j];
                t.records[i] = t.records[j];
                i = j;
            }
        }
        t.keys[i] = 0;
        t.records[i] = null;
        s.size--;
    }

    /** @return the record at {@code address} after removing it, or null when there is none */
    SiteRecord remove(long address) {
        long h = hash(address);
        Stripe s = stripeOf(h);
        // Most calls find nothing (a free of an unsampled block in a slab that holds a sampled one): say so without
        // writing to the stripe's lock, when no writer got in the way.
        long stamp = s.lock.tryOptimisticRead();
        if (stamp != 0 && find(s.table, address, h) == null && s.lock.validate(stamp)) return null;
        stamp = s.lock.writeLock();
        try {
            int i = slotOf(s.table, address, h);
            if (i < 0) return null;
            SiteRecord r = s.table.records[i];
            removeAt(s, i);
            return r;
        } finally {
            s.lock.unlockWrite(stamp);
        }
    }

    /** @return the record at {@code address}, or null */
    SiteRecord get(long address) {
        long h = hash(address);
        Stripe s = stripeOf(h);
        long stamp = s.lock.tryOptimisticRead();
        if (stamp != 0) {
            SiteRecord r = find(s.table, address, h);
            if (s.lock.validate(stamp)) return r;
        }
        stamp = s.lock.readLock();
        try {
            return find(s.table, address, h);
        } finally {
            s.lock.unlockRead(stamp);
        }
    }

    /** A probe that stays within bounds and ends even when a writer changes the table under it (then discarded). */
    private static SiteRecord find(Table t, long address, long h) {
        int mask = t.mask(), i = home(h, t.keys.length);
        for (int n = 0; n <= mask; n++, i = (i + 1) & mask) {
            long k = t.keys[i];
            if (k == address) return t.records[i];
            if (k == 0) return null;
        }
        return null;
    }

    /** @return the live records, stripe by stripe (each stripe consistent, the whole weakly so) */
    List<SiteRecord> all() {
        List<SiteRecord> out = new ArrayList<>();
        for (Stripe s : stripes) {
            long stamp = s.lock.readLock();
            try {
                for (SiteRecord r : s.table.records) if (r != null) out.add(r);
            } finally {
                s.lock.unlockRead(stamp);
            }
        }
        return out;
    }

    /** @return the records whose capture is not resolved yet, among those the stripes hold as waiting */
    int unresolved() {
        int n = 0;
        for (Stripe s : stripes) {
            long stamp = s.lock.readLock();
            try {
                for (int i = 0; i < s.waitingCount; i++) if (!s.waiting[i].isResolved()) n++;
            } finally {
                s.lock.unlockRead(stamp);
            }
        }
        return n;
    }
}
