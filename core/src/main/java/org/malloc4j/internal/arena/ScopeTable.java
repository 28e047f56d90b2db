package org.malloc4j.internal.arena;

/**
 * The open arenas of a heap by scope, for {@link ArenaRegistry}: reads without locks or atomic operations, writes
 * under the table's monitor. It replaces a {@code ConcurrentHashMap} on the path of {@code heap.free(segment)}
 * because its lookup compiles to a few instructions, small enough that {@code heap.free} stays inlinable and the
 * segment passed to it is not allocated (C2 does not inline a callee already compiled to more than
 * {@code InlineSmallCode} bytes).
 *
 * <p>Layout: an {@code Object[]} of slots, the scope of slot {@code i} at {@code 2i} and its arena at
 * {@code 2i + 1}; linear probing from the scope's identity hash. A removed entry leaves a {@link #TOMBSTONE} key, so
 * that entries never move while readers probe; when live entries and tombstones fill three quarters of the table,
 * or live entries fall below an eighth of it, the writer copies the live entries into a new table and publishes it
 * through the volatile {@link #table}: the table, and {@link #arenas()}'s walk of it, follow the arenas open now, not
 * the most that ever were.
 *
 * <p>Why unsynchronized reads are safe: a thread looks up the scope of a segment it holds, and it got that segment
 * after the arena was added (the arena's {@code allocate} runs after its constructor added it, and the segment reached
 * the thread through whatever published it). So the add, its plain stores into the table, and the volatile write of
 * a newer table if there was one, all happen-before the lookup, which then finds the entry in the table it reads.
 * Entries of other arenas may be seen half-written or stale; their keys are not the scope looked up, or, for an arena
 * being removed while its segment is freed, the lookup may miss it (a null arena counts as a miss): its scope is
 * closed by then, which the caller checks.
 */
final class ScopeTable {
    private static final Object TOMBSTONE = new Object();
    private static final int MIN_SLOTS = 16;

    private volatile Object[] table = new Object[2 * MIN_SLOTS];
    /** Live entries plus tombstones in {@link #table}; guarded by this. */
    private int used;
    /** Live entries; guarded by this. */
    private int live;

    /** @return the open arena of {@code scope}, or null */
    HeapArena get(Object scope) {
        Object[] t = table;
        int mask = (t.length >> 1) - 1;
        for (int i = home(scope, mask); ; i = (i + 1) & mask) {
            Object key = t[2 * i];
            if (key == scope) return (HeapArena) t[2 * i + 1];
            if (key == null) return null;
        }
    }

    /** Adds an arena; its scope must not be in the table. */
    synchronized void add(Object scope, HeapArena arena) {
        Object[] t = table;
        if ((used + 1) * 4L > (t.length >> 1) * 3L) t = rebuild(live + 1);
        int mask = (t.length >> 1) - 1;
        int i = home(scope, mask);
        while (t[2 * i] != null && t[2 * i] != TOMBSTONE) i = (i + 1) & mask;
        if (t[2 * i] == null) used++;
        t[2 * i + 1] = arena; // plain stores: a reader of this scope is ordered after them (see the class comment)
        t[2 * i] = scope;
        live++;
    }

    /** Removes the arena of {@code scope}, if it is there. */
    synchronized void remove(Object scope) {
        Object[] t = table;
        int mask = (t.length >> 1) - 1;
        for (int i = home(scope, mask); t[2 * i] != null; i = (i + 1) & mask) {
            if (t[2 * i] == scope) {
                t[2 * i] = TOMBSTONE;
                t[2 * i + 1] = null;
                live--;
                // Shrink: else 100,000 arenas open once left a table of 262,144 slots for good, walked by every
                // leaks() and the heap's close, and every miss (a plain segment's free) probed through tombstones
                if (mask + 1 > MIN_SLOTS && live * 8L < mask + 1) rebuild(live);
                return;
            }
        }
    }

    /** @return a copy of the open arenas (taken under the monitor; the caller acts on them outside it) */
    synchronized java.util.List<HeapArena> arenas() {
        java.util.List<HeapArena> all = new java.util.ArrayList<>(live);
        Object[] t = table;
        for (int s = 0; s < t.length; s += 2) {
            if (t[s] != null && t[s] != TOMBSTONE) all.add((HeapArena) t[s + 1]);
        }
        return all;
    }

    /** @return the number of open arenas */
    synchronized int size() {
        return live;
    }

    /** Copies the live entries into a table with room for {@code entries}, publishes it and returns it. */
    private Object[] rebuild(int entries) {
        int slots = MIN_SLOTS;
        while (slots * 3L < entries * 4L * 2) slots <<= 1; // at most three eighths full after a rebuild
        Object[] old = table;
        Object[] t = new Object[2 * slots];
        int mask = slots - 1;
        for (int s = 0; s < old.length; s += 2) {
            Object key = old[s];
            if (key == null || key == TOMBSTONE) continue;
            int i = home(key, mask);
            while (t[2 * i] != null) i = (i + 1) & mask;
            t[2 * i] = key;
            t[2 * i + 1] = old[s + 1];
        }
        used = live;
        table = t;
        return t;
    }

    private static int home(Object scope, int mask) {
        int h = System.identityHashCode(scope) * 0x9E3779B9;
        return (h ^ (h >>> 16)) & mask;
    }
}
