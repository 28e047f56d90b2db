package org.malloc4j.internal.arena;

import java.util.Arrays;
import java.util.function.LongConsumer;

/**
 * An open-addressing map from an address to a value (a segment's to its heap block, a chunk's to its index), for
 * one arena: O(1) put, get and remove, no boxing, and a walk over every entry in time proportional to the entries
 * (the table shrinks when most of its entries are removed). Not thread-safe: the arena guards it.
 *
 * <p>Layout: one {@code long[]} of slots, the key of slot {@code i} at {@code 2i} and its value at {@code 2i + 1}, so
 * that a probe touches one cache line. Key 0 marks an empty slot (0 is never an address of a block). Linear
 * probing from a Fibonacci hash of the key; removal shifts later entries of the probe run back instead of leaving
 * tombstones, so a lookup never walks more than the run it hashes into.
 *
 * <p>Invariants: {@code size} entries are non-empty; the table has a power of two of slots, at least
 * {@link #MIN_SLOTS}, and is at most three quarters full; every entry sits in the probe run that starts at its home
 * slot with no empty slot in between.
 */
public final class AddressMap {
    /** The smallest table, in slots. */
    static final int MIN_SLOTS = 16;
    private static final long PHI = 0x9E3779B97F4A7C15L;

    private long[] table = new long[2 * MIN_SLOTS];
    private int mask = MIN_SLOTS - 1;
    private int shift = 64 - Integer.numberOfTrailingZeros(MIN_SLOTS);
    private int size;

    /** Makes an empty map. */
    public AddressMap() {}

    /**
     * Returns the number of entries.
     *
     * @return the number of entries
     */
    public int size() {
        return size;
    }

    /**
     * Adds an entry. The key must not be in the map already (an arena adds each block once, when it allocates it).
     *
     * @param key a non-zero address
     * @param value a non-zero value
     */
    public void put(long key, long value) {
        if ((size + 1) * 4L > (mask + 1) * 3L) resize((mask + 1) * 2);
        long[] t = table;
        int i = home(key);
        while (t[2 * i] != 0) i = (i + 1) & mask;
        t[2 * i] = key;
        t[2 * i + 1] = value;
        size++;
    }

    /**
     * Looks an entry up.
     *
     * @param key an address
     * @return the value of {@code key}, or 0 when it is not in the map
     */
    public long get(long key) {
        if (key == 0) return 0; // 0 marks an empty slot: the probe would stop at the first one and take it for the key
        long[] t = table;
        int i = home(key);
        for (long k; (k = t[2 * i]) != key; i = (i + 1) & mask) {
            if (k == 0) return 0;
        }
        return t[2 * i + 1];
    }

    /**
     * Removes an entry.
     *
     * @param key the address to remove
     * @return the value of {@code key}, or 0 when it is not in the map
     */
    public long remove(long key) {
        if (key == 0) return 0; // as in get: never in the map (else an empty slot is "removed" and size drops)
        long[] t = table;
        int i = home(key);
        for (long k; (k = t[2 * i]) != key; i = (i + 1) & mask) {
            if (k == 0) return 0;
        }
        long value = t[2 * i + 1];
        // Backward shift: move each later entry of the run into the hole when the hole lies on its probe path.
        for (int j = (i + 1) & mask; ; j = (j + 1) & mask) {
            long k = t[2 * j];
            if (k == 0) break;
            if (((j - home(k)) & mask) >= ((j - i) & mask)) {
                t[2 * i] = k;
                t[2 * i + 1] = t[2 * j + 1];
                i = j;
            }
        }
        t[2 * i] = 0;
        t[2 * i + 1] = 0;
        size--;
        if (mask + 1 > MIN_SLOTS && size * 8L < mask + 1) resize((mask + 1) / 2);
        return value;
    }

    /**
     * Calls {@code action} with every value, in no particular order. The map must not change meanwhile.
     *
     * @param action what to do with each value
     */
    public void forEachValue(LongConsumer action) {
        long[] t = table;
        for (int i = 0; i < t.length; i += 2) {
            if (t[i] != 0) action.accept(t[i + 1]);
        }
    }

    /**
     * {@return every entry, its key then its value, in no particular order} For a leak report, which may read a
     * confined arena's map from another thread: it reads the table once and leaves out a half-written entry, so that
     * a racy look never throws.
     */
    long[] entries() {
        long[] t = table;
        long[] all = new long[t.length];
        int n = 0;
        for (int i = 0; i + 1 < t.length; i += 2) {
            long key = t[i], value = t[i + 1];
            if (key == 0 || value == 0) continue;
            all[n++] = key;
            all[n++] = value;
        }
        return Arrays.copyOf(all, n);
    }

    /** Removes every entry and goes back to the smallest table. */
    public void clear() {
        table = new long[2 * MIN_SLOTS];
        mask = MIN_SLOTS - 1;
        shift = 64 - Integer.numberOfTrailingZeros(MIN_SLOTS);
        size = 0;
    }

    private int home(long key) {
        return (int) ((key * PHI) >>> shift);
    }

    private void resize(int slots) {
        long[] old = table;
        table = new long[2 * slots];
        mask = slots - 1;
        shift = 64 - Integer.numberOfTrailingZeros(slots);
        long[] t = table;
        for (int s = 0; s < old.length; s += 2) {
            long key = old[s];
            if (key == 0) continue;
            int i = home(key);
            while (t[2 * i] != 0) i = (i + 1) & mask;
            t[2 * i] = key;
            t[2 * i + 1] = old[s + 1];
        }
    }
}
