package org.malloc4j.internal.small;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One thread's cache of slabs, and the fast paths of small malloc and free (mimalloc's thread-local heap).
 *
 * <p>Only the owning thread calls {@link #allocate} and {@link #freeLocal}: they touch no lock and no atomic,
 * and allocate no Java object. Other threads reach this cache only through {@link #pushPending}, a lock-free
 * stack of slabs that received remote frees, which the owner drains on its slow path.
 *
 * <p>Per size class the cache holds a current slab (allocation pops its lowest free block) and a list of other
 * slabs with free blocks. A slab that fills up leaves both and "floats" until a free makes room in it.
 * Statistics are plain per-cache counters, summed by the heap when read.
 */
public final class LocalHeap {
    private static final VarHandle PENDING_HEAD;

    static {
        try {
            PENDING_HEAD = MethodHandles.lookup().findVarHandle(LocalHeap.class, "pendingHead", Slab.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static final Slab EMPTY = new Slab();

    /** The thread that owns this cache. */
    public final Thread thread;
    private final SlabSource source;
    private final Slab[] current = new Slab[SizeClasses.COUNT];
    private final Slab[] available = new Slab[SizeClasses.COUNT];
    @SuppressWarnings("unused") // accessed through PENDING_HEAD
    private volatile Slab pendingHead;

    // Statistics, written by the owner only; read racily by HeapStats (exact once threads are quiescent).
    public long live, peak, mallocs, frees;

    public LocalHeap(Thread thread, SlabSource source) {
        this.thread = thread;
        this.source = source;
        java.util.Arrays.fill(current, EMPTY);
    }

    /** Allocates a block of class {@code c} for a request of {@code size} bytes. Owner only. */
    public long allocate(int c, long size) {
        Slab s = current[c];
        long summary = s.summary;
        if (summary != 0) {
            int w = Long.numberOfTrailingZeros(summary);
            long word = s.free[w];
            int idx = (w << 6) | Long.numberOfTrailingZeros(word);
            word &= word - 1;
            s.free[w] = word;
            if (word == 0) s.summary = summary & ~(1L << w);
            s.used++;
            s.setRequested(idx, size);
            countMalloc(size);
            return s.base + (long) idx * s.blockSize;
        }
        return allocateSlow(c, size);
    }

    /** Counts an allocation of {@code size} requested bytes (small, or medium made by this thread). */
    public void countMalloc(long size) {
        mallocs++;
        long l = live + size;
        live = l;
        if (l > peak) peak = l;
    }

    /** Counts a free of a block of {@code size} requested bytes. */
    public void countFree(long size) {
        frees++;
        live -= size;
    }

    private long allocateSlow(int c, long size) {
        drainPending();
        Slab s = current[c];
        if (s.summary == 0) {
            Slab next = available[c];
            if (next != null) {
                unlink(next);
            } else {
                next = source.newSlab(c, this, size);
            }
            current[c] = next;
        }
        return allocate(c, size);
    }

    /**
     * Frees block {@code idx} of {@code slab}, a slab of this cache. Owner only. Returns false, changing
     * nothing, when the block is not allocated.
     */
    public boolean freeLocal(Slab slab, int idx) {
        int w = idx >>> 6;
        long bit = 1L << idx;
        long word = slab.free[w];
        if (((word | slab.remote[w]) & bit) != 0) return false;
        slab.free[w] = word | bit;
        slab.summary |= 1L << w;
        countFree(slab.requested(idx));
        int used = --slab.used;
        if (used == 0 || used == slab.capacity - 1) afterFree(slab);
        return true;
    }

    /**
     * Frees block {@code idx} of {@code slab}, a slab of another cache, on behalf of this cache's thread: the block
     * goes to the slab's remote bitmap and the slab, if not queued already, to its owner's pending stack.
     * Counted in this cache's statistics. Returns false, changing nothing, when the block is not allocated.
     */
    public boolean freeRemote(Slab slab, int idx) {
        int requested = slab.requested(idx); // read before the owner can collect and reuse the block
        if (!slab.freeRemote(idx)) return false;
        countFree(requested);
        if (slab.markPending()) slab.owner.pushPending(slab);
        return true;
    }

    /** A slab became non-full or empty: file it, or give it back when empty and not current. */
    private void afterFree(Slab slab) {
        int c = slab.sizeClass;
        if (slab == current[c]) return;
        if (slab.used == 0) {
            if (slab.listed) unlink(slab);
            source.releaseSlab(slab);
        } else if (!slab.listed) {
            link(slab);
        }
    }

    /** Called by another thread after its remote free queued {@code slab}; lock-free Treiber push. */
    public void pushPending(Slab slab) {
        Slab head;
        do {
            head = (Slab) PENDING_HEAD.getVolatile(this);
            slab.nextPending = head;
        } while (!PENDING_HEAD.compareAndSet(this, head, slab));
    }

    /** Owner only: takes every queued slab (one atomic swap, so no ABA) and folds in its remote frees. */
    public void drainPending() {
        if (PENDING_HEAD.getOpaque(this) == null) return;
        Slab s = (Slab) PENDING_HEAD.getAndSet(this, null);
        while (s != null) {
            Slab next = s.nextPending;
            s.nextPending = null; // before collect(): once pending is cleared another thread may queue s again
            if (s.collect() > 0) afterFree(s);
            s = next;
        }
    }

    private void link(Slab s) {
        int c = s.sizeClass;
        Slab head = available[c];
        s.next = head;
        s.prev = null;
        if (head != null) head.prev = s;
        available[c] = s;
        s.listed = true;
    }

    private void unlink(Slab s) {
        if (s.prev != null) s.prev.next = s.next;
        else available[s.sizeClass] = s.next;
        if (s.next != null) s.next.prev = s.prev;
        s.next = s.prev = null;
        s.listed = false;
    }

    /** Creates a slab of class {@code sizeClass} over the pages at {@code base}, owned by this cache. */
    public Slab newSlab(long base, int sizeClass) {
        return new Slab(base, sizeClass, this);
    }
}
