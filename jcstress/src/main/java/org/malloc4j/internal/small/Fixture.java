package org.malloc4j.internal.small;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * What the jcstress tests share: a fake {@link SlabSource}, a terminated thread, and white-box checks of a slab's
 * state that the arbiters run once both actors have finished.
 *
 * <p>The tests live in the package of {@link Slab} and {@link LocalHeap} (on the class path, so the split package
 * is legal) to read the owner-only fields ({@code free}, {@code used}, {@code summary}) and, through private
 * lookups, the {@code pending} flag and the pending-stack head. A whole {@code Heap} per jcstress state would
 * reserve address space for every one of the many thousands of states a run creates; the slab layer never reads
 * or writes the blocks themselves (its bitmaps are Java arrays), so the fake source hands out slabs over
 * synthetic addresses and no memory is mapped at all.
 *
 * <p>An arbiter's verdict is a bit set, 0 when everything is consistent:
 * <ul>
 *   <li>{@link #REMOTE_LEFT} 1: a {@code remote} bit is still set after the owner drained: a remote free was lost
 *       (the slab was never queued, or queued where nobody collects);</li>
 *   <li>{@link #PENDING} 2: a slab's {@code pending} flag or {@code nextPending} link, or a cache's pending stack,
 *       is not clear after the drain;</li>
 *   <li>{@link #BLOCK} 4: a block is free when it should be allocated or the reverse;</li>
 *   <li>{@link #USED} 8: {@code used} is not the count of allocated blocks (capacity minus free bits), or not the
 *       number the scenario leaves allocated;</li>
 *   <li>{@link #BITMAP} 16: the {@code summary} word disagrees with the {@code free} words;</li>
 *   <li>{@link #STATS} 32: the caches' counters (live bytes, mallocs, frees) do not add up;</li>
 *   <li>{@link #OWNER} 64: wrong slab owner, owned lists, or slabs created / given back;</li>
 *   <li>{@link #DOUBLE} 128: a free of a block that was already free was accepted.</li>
 * </ul>
 */
final class Fixture {
    static final int REMOTE_LEFT = 1, PENDING = 2, BLOCK = 4, USED = 8, BITMAP = 16, STATS = 32, OWNER = 64,
            DOUBLE = 128;

    /**
     * Request size of every block: its class's slab holds a few blocks in one bitmap word, and each block has slack
     * (its class is 1024 bytes), which a remote free leaves for the owner to count ({@link #stats}).
     */
    static final int SIZE = 1000;
    static final int CLASS = SizeClasses.classOf(SIZE);

    /** A platform thread that has terminated: the owner of a "dead" cache. */
    static final Thread DEAD;

    private static final VarHandle SLAB_PENDING;
    private static final Slab CLOSED;

    static {
        // No Runnable: a lambda's body would be a method of this class, and running it would wait for this very
        // initialisation to finish (a deadlock with the join below).
        DEAD = new Thread("malloc4j-jcstress-dead-owner");
        DEAD.start();
        try {
            DEAD.join();
            MethodHandles.Lookup slab = MethodHandles.privateLookupIn(Slab.class, MethodHandles.lookup());
            SLAB_PENDING = slab.findVarHandle(Slab.class, "pending", int.class);
            MethodHandles.Lookup local = MethodHandles.privateLookupIn(LocalHeap.class, MethodHandles.lookup());
            CLOSED = (Slab) local.findStaticVarHandle(LocalHeap.class, "CLOSED", Slab.class).get();
        } catch (ReflectiveOperationException | InterruptedException e) {
            throw new ExceptionInInitializerError(e);
        }
        // A fresh cache's first slab of the class is its smallest (the slab sizes ramp up from it).
        if (SizeClasses.size(CLASS) * 2 > ((long) SizeClasses.firstSlabPages(CLASS) << 12)) {
            throw new ExceptionInInitializerError("class " + CLASS + "'s first slab holds fewer than two blocks");
        }
    }

    private Fixture() {}

    /**
     * Slabs over synthetic addresses, one distinct range per slab. Called by one thread at a time in every
     * scenario (the constructor, then the owner or adopter actor); the arbiter reads the counts afterwards.
     */
    static final class Source implements SlabSource {
        private static final long BASE = 1L << 44, SPAN = 1L << 20;
        private long next = BASE;
        int created, released;
        Slab last, lastReleased;

        @Override
        public Slab newSlab(int sizeClass, LocalHeap owner, long request) {
            Slab s = owner.newSlab(next, sizeClass, owner.nextSlabPages(sizeClass));
            next += SPAN;
            created++;
            last = s;
            return s;
        }

        @Override
        public void releaseSlab(Slab slab) {
            released++;
            lastReleased = slab;
        }

        // No @Override: compiles whether or not the SlabSource in the tree has this hook yet.
        public void onSlowPath(LocalHeap cache) {}
    }

    /** @return a cache owned by a live thread (the thread only labels the cache: the tests call it directly) */
    static LocalHeap live(Source source) {
        return LocalHeap.exclusive(Thread.currentThread(), source);
    }

    /** @return a cache whose owner thread has terminated */
    static LocalHeap dead(Source source) {
        return LocalHeap.exclusive(DEAD, source);
    }

    /**
     * Arbiter only: the slab's own invariants once every remote free has been handed over and collected: no remote
     * bit left, not pending, summary matching the bitmap, used matching the bitmap.
     */
    static int settled(Slab s) {
        int v = 0;
        int freeBits = 0;
        long summary = 0;
        for (int w = 0; w < s.words; w++) {
            freeBits += Long.bitCount(s.bits[2 * w]);
            if (s.bits[2 * w] != 0) summary |= 1L << w;
            if (s.bits[2 * w + 1] != 0) v |= REMOTE_LEFT;
        }
        if (summary != s.summary) v |= BITMAP;
        if (s.used != s.capacity - freeBits) v |= USED;
        if ((int) SLAB_PENDING.getVolatile(s) != 0 || s.nextPending != null) v |= PENDING;
        return v;
    }

    /** @return true when block {@code idx} is in the owner's free bitmap (and not waiting in {@code remote}) */
    static boolean isFree(Slab s, int idx) {
        return (s.bits[(idx >>> 6) << 1] & (1L << idx)) != 0 && (s.bits[((idx >>> 6) << 1) + 1] & (1L << idx)) == 0;
    }

    /** Owner or arbiter: whether block {@code idx} is in the owner's free bitmap, ignoring {@code remote}. */
    static boolean collected(Slab s, int idx) {
        return (s.bits[(idx >>> 6) << 1] & (1L << idx)) != 0;
    }

    /** @return {@link #PENDING} unless the pending stack of each cache is empty */
    static int stacksEmpty(LocalHeap... caches) {
        for (LocalHeap c : caches) if (c.pendingHead() != null) return PENDING;
        return 0;
    }

    /** @return true when {@code c} was adopted: its pending stack is closed */
    static boolean closed(LocalHeap c) {
        return c.pendingHead() == CLOSED;
    }

    /**
     * @return {@link #STATS} unless the caches together counted {@code mallocs} allocations, {@code frees} frees
     *         and {@code live} live requested bytes
     */
    static int stats(long live, long mallocs, long frees, LocalHeap... caches) {
        long l = 0, m = 0, f = 0;
        for (LocalHeap c : caches) {
            l += c.liveBytes(); // as heap statistics count it: see LocalHeap.freeRemote
            m += c.mallocs;
            f += c.frees;
        }
        return l == live && m == mallocs && f == frees ? 0 : STATS;
    }
}
