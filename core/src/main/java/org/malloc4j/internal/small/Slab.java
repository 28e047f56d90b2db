package org.malloc4j.internal.small;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A run of pages cut into blocks of one size class, owned by one thread's cache.
 *
 * <p>Free-list sharding, with the list out of band: instead of a list threaded through free blocks, each slab
 * keeps a bitmap ({@code free}, bit set = block free) and a one-word summary of its non-empty words. Malloc
 * takes the lowest free block with two {@code numberOfTrailingZeros}; free sets one bit. Both are O(1), keep
 * allocation address-ordered within the slab, and make every free checkable: a bit that is already set is a
 * double free. Nothing is written into user blocks.
 *
 * <p>Blocks freed by other threads go to the remote bitmap, interleaved with the free one, updated with atomic OR; the owner
 * folds it into {@code free} on its slow path ({@link #collect}). Because folding is an OR, a block freed twice
 * cannot enter the free set twice. One race is not caught: the owner and another thread freeing the same block at
 * the same moment (a double free racing with itself) can both succeed, since the owner's free takes no fence (the
 * owner and another thread each freeing the same 100,000 fresh blocks at once: both succeeded for 0.3% to 2.9% of them
 * in three runs, a review's test on 2026-12-07). Catching it would cost a store-load fence on every owner free. The
 * block's remote bit then stands over a free block: a collection takes the second count back, and the owner's malloc,
 * which reads the remote word beside the free word it takes a block from, drops the bit before it hands the block out
 * ({@link #dropTwiceFreed}); collected after the malloc, the bit freed the new block, which a later malloc handed out a
 * second time (jcstress {@code OwnerRemoteDoubleFreeReuseTest}: 0.07% to 4.7% of samples).
 *
 * <p>A thread that frees another thread's block counts it at its block size, without reading the block's requested
 * size: that entry of {@code slack} sits on a line the owner's mallocs keep writing, and in a producer/consumer
 * program reading it cost the consumer a cross-core miss on every free (39% of {@code Heap.free}'s samples in
 * {@code XmallocInTurn}). The owner, which has the line, counts the slack of the blocks it collects back into its
 * own live bytes ({@link #collectRemote}); until then {@link #remoteSlack} tells statistics what is owed. A medium
 * slab's one block is the exception for its rounding ({@link LocalHeap#mediumRounding}), which the freeing thread reads
 * and takes out itself: one line a free of 32 KiB or more, which its owner seldom writes.
 *
 * <p>Fields written only by the owner are plain; {@code remote} and {@code pending} are shared (see the
 * orderings named where they are used).
 */
public final class Slab extends SlabPendingPadding {
    private static final VarHandle BITS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle PENDING;
    private static final VarHandle SAMPLED;
    private static final VarHandle HELD = MethodHandles.arrayElementVarHandle(byte[].class);
    private static final VarHandle HELD_ARRAY;

    static {
        try {
            PENDING = MethodHandles.lookup().findVarHandle(SlabPending.class, "pending", int.class);
            SAMPLED = MethodHandles.lookup().findVarHandle(SlabShape.class, "sampled", int.class);
            HELD_ARRAY = MethodHandles.lookup().findVarHandle(SlabShape.class, "held", byte[].class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Words of the free bitmap with a free block (bit w for word w); the owner's, written on every malloc. */
    long summary;
    int used;

    // The owner's list of slabs with free blocks, per class, and whether this is the class's current slab.
    Slab next, prev;
    boolean listed;
    boolean isCurrent;
    // The owner's list of every slab it owns (for adoption when its thread dies).
    Slab nextOwned, prevOwned;
    // The owner's spares: empty slabs kept for reuse, oldest first (see LocalHeap.keepSpare).
    Slab nextSpare, prevSpare;
    boolean spare;
    /** On its class's roomy queue (half its blocks free or more), not the first one (LocalHeap). */
    boolean roomy;

    /** A slab of the class's standard size ({@link SizeClasses#slabPages}). */
    Slab(long base, int sizeClass, LocalHeap owner) {
        this(base, sizeClass, SizeClasses.slabPages(sizeClass), owner);
    }

    /** A slab of {@code pages} pages (the class's standard or first size), which must hold two blocks or more. */
    Slab(long base, int sizeClass, int pages, LocalHeap owner) {
        super(base, sizeClass, pages, owner);
        this.summary = words == 64 ? -1L : (1L << words) - 1;
    }

    /**
     * Owner only: makes this object, whose slab was given back empty, describe a new slab of the same class at
     * {@code newBase}, so that a program whose slabs fill and empty in a loop makes no Java garbage. The
     * pending flag and link are left as the remote-free protocol has them: if a late push queued this object,
     * the owner's next drain finds it, and collecting it is harmless.
     */
    void reuse(long newBase) {
        base = newBase;
        for (int w = 0; w < words; w++) {
            int n = Math.min(64, capacity - (w << 6));
            bits[2 * w] = n == 64 ? -1L : (1L << n) - 1;
            bits[2 * w + 1] = 0;
        }
        summary = words == 64 ? -1L : (1L << words) - 1;
        used = 0;
        next = prev = null;
        listed = false;
        isCurrent = false;
        nextOwned = prevOwned = null;
        nextSpare = prevSpare = null;
        spare = false;
        roomy = false;
        wideSlack = 0;
    }

    /** @return bytes of this slab's pages */
    long bytes() {
        return (long) pages << 12;
    }

    /** The empty sentinel: no blocks, so the fast path needs no null check. */
    Slab() {
        super();
    }

    /** Adds {@code delta} to the count of sampled live blocks (any thread). */
    public void addSampled(int delta) {
        SAMPLED.getAndAdd(this, delta);
    }

    /**
     * Marks block {@code idx}, just allocated, as held by a layer of the heap (an arena or a thread stack): {@code kind},
     * 1 to 127, says which. Its frees take the slow path from now on (it counts in {@link #sampled}), which refuses the
     * program's; the holder frees it after {@link #unhold}. Any thread.
     */
    public void hold(int idx, int kind) {
        byte[] h = (byte[]) HELD_ARRAY.getAcquire(this);
        if (h == null) {
            h = new byte[capacity];
            if (!HELD_ARRAY.compareAndSet(this, null, h)) h = (byte[]) HELD_ARRAY.getAcquire(this);
        }
        HELD.setRelease(h, idx, (byte) kind);
        addSampled(1);
    }

    /** @return what holds block {@code idx} ({@link #hold}'s kind), or 0 when no layer of the heap does */
    public int heldKind(int idx) {
        byte[] h = (byte[]) HELD_ARRAY.getAcquire(this);
        return h == null ? 0 : (byte) HELD.getAcquire(h, idx);
    }

    /**
     * Ends {@link #hold} of block {@code idx}, before its holder frees it. @return false, changing nothing, when the
     * block is not held as {@code kind}
     */
    public boolean unhold(int idx, int kind) {
        if (heldKind(idx) != kind) return false;
        HELD.setRelease(held, idx, (byte) 0);
        addSampled(-1);
        return true;
    }

    /** @return the block index of {@code address}, or -1 when it is not the start of a block of this slab */
    public int indexOf(long address) {
        long rel = address - base;
        return rel >= 0 && rel < span ? indexAt(rel) : -1;
    }

    /**
     * @return the block index of the offset {@code rel}, which lies within this slab's blocks ({@code 0 <= rel < span}),
     *         or -1 when it is not the start of a block. Under 35 bytes of bytecode, so that C2 inlines it even where
     *         its caller is a cold site (the recent-slab guess of free, {@link LocalHeap#recentIndex}).
     */
    int indexAt(long rel) {
        int idx = (int) ((rel * magic) >>> 40);
        return (long) idx * blockSize == rel ? idx : -1;
    }

    /** @return the index of the block that contains {@code address}, or -1 past the last block */
    public int blockContaining(long address) {
        long rel = address - base;
        int idx = (int) ((rel * magic) >>> 40);
        if ((long) idx * blockSize > rel) idx--;
        return rel >= 0 && idx < capacity ? idx : -1;
    }

    /** @return true when block {@code idx} is allocated, as the owner sees it */
    public boolean isAllocatedLocal(int idx) {
        long bit = 1L << idx;
        int i = (idx >>> 6) << 1;
        return ((long) BITS.getOpaque(bits, i) & bit) == 0 && ((long) BITS.getOpaque(bits, i + 1) & bit) == 0;
    }

    /**
     * The fast paths' requested size: exact but for a medium block shrunk far in place, {@link #wideSlack} more, which
     * the medium paths that free such a block take back ({@link #requestedSize} is always exact).
     */
    int requested(int idx) {
        return blockSize - slack[idx];
    }

    /** A malloc's size, which a class's slack always holds (a realloc's goes through {@link #setRequestedSize}). */
    void setRequested(int idx, long size) {
        slack[idx] = (char) (blockSize - (int) size);
    }

    /** @return the size the program asked for, for the block at {@code idx}; any thread, racy but exact when quiescent */
    public int requestedSize(int idx) {
        return requested(idx) - wideSlack; // wideSlack is 0 but in a medium slab, whose block is idx 0
    }

    /** @return blocks allocated, counted from the bitmaps (racy when another thread owns the slab) */
    public int liveBlocks() {
        int free = 0;
        for (int w = 0; w < words; w++) {
            free += Long.bitCount((long) BITS.getOpaque(bits, 2 * w) | (long) BITS.getOpaque(bits, 2 * w + 1));
        }
        return capacity - free;
    }

    /** @return the sum of requested sizes of the allocated blocks (racy when another thread owns the slab) */
    public long requestedBytes() {
        long total = 0;
        for (int w = 0; w < words; w++) {
            long allocated = ~((long) BITS.getOpaque(bits, 2 * w) | (long) BITS.getOpaque(bits, 2 * w + 1));
            int bits = Math.min(64, capacity - (w << 6));
            if (bits < 64) allocated &= (1L << bits) - 1;
            total += (long) Long.bitCount(allocated) * blockSize - slackOf(w, allocated);
        }
        return total;
    }

    /** @return the sum of the slack (block size minus requested size) of the blocks of bitmap word {@code w} in {@code blocks} */
    private long slackOf(int w, long blocks) {
        long sum = blocks == 0 ? 0 : wideSlack; // 0 but in a medium slab, whose one block is bit 0 of word 0
        for (long t = blocks; t != 0; t &= t - 1) sum += slack[(w << 6) | Long.numberOfTrailingZeros(t)];
        return sum;
    }

    /**
     * @return whether a block of this slab can record {@code size} bytes as its requested size: at most the block (a
     *         medium block records any smaller size, in {@link #wideSlack} beyond 64 KiB below its class; a small
     *         class's slack always fits a {@code char})
     */
    public boolean canRecord(long size) {
        return size <= blockSize;
    }

    /**
     * Records a new requested size for an allocated block (realloc in place); the block's holder calls it. A medium
     * block could not record one more than 64 KiB below its class, and a realloc at the heap's limit whose move was
     * refused then refused the shrink (MediumShrinkFarAtTheLimitTest).
     */
    public void setRequestedSize(int idx, long size) {
        if (capacity != 1) {
            setRequested(idx, size);
            return;
        }
        int s = blockSize - (int) size;
        int inChar = Math.min(s, Character.MAX_VALUE);
        slack[idx] = (char) inChar;
        wideSlack = s - inChar;
    }

    public long blockAddress(int idx) {
        return base + (long) idx * blockSize;
    }

    /**
     * Frees a block from a thread that does not own the slab. Returns false, changing nothing, when the block is
     * not allocated (a double free). The caller validated the index.
     *
     * <p>Ordering: the owner collects a remote free by setting the block's {@code free} bit and then clearing its
     * {@code remote} bit with a read-modify-write (release). We read the {@code remote} word with acquire first:
     * if the owner already collected an earlier free of this block, that read synchronises with it and the
     * {@code free} read after it sees the set bit, so a second free is caught. Our own claim is the atomic OR:
     * if the bit was already set, another thread freed the block first. The {@code free} bit is never read
     * after the claim, when the owner may legitimately have collected it already.
     */
    boolean freeRemote(int idx) {
        int i = (idx >>> 6) << 1;
        long bit = 1L << idx;
        if ((((long) BITS.getVolatile(bits, i + 1)) & bit) != 0) return false;
        if ((((long) BITS.getOpaque(bits, i)) & bit) != 0) return false;
        long old = (long) BITS.getAndBitwiseOr(bits, i + 1, bit);
        return (old & bit) == 0;
    }

    /** Marks the slab as having remote frees; returns true when the caller must hand it to the owner. */
    boolean markPending() {
        // Volatile, not opaque: with the owner's volatile clear-then-read in collect() this is a Dekker pair, so
        // either the owner sees our remote bit or we see pending cleared and queue the slab again.
        return (int) PENDING.getVolatile(this) == 0 && PENDING.compareAndSet(this, 0, 1);
    }

    /**
     * Owner only: folds remote frees into the free bitmap and returns how many blocks became free. The thread
     * that freed them already counted them in its statistics.
     *
     * <p>A remote bit whose block is already free is a double free that slipped through: the owner freed the
     * block locally while another thread freed it too (the owner's fast path takes no atomic, so the two cannot
     * see each other). While the block is still free the OR changes nothing, and its second count is taken back
     * here from the owner's statistics, so that they stay exact. The owner's malloc drops such a bit before it hands
     * the block out again ({@link #dropTwiceFreed}): collected after that, it would free the new block.
     */
    int collect() {
        PENDING.setVolatile(this, 0); // remote frees after this point will queue the slab again
        return collectRemote();
    }

    /** Clears the pending flag of a slab just taken off a pending stack. */
    void clearPending() {
        PENDING.setVolatile(this, 0);
    }

    /**
     * collect() without touching the pending flag (a push may be in flight). The freeing threads counted each block
     * at its block size; the slack of the blocks collected (block size minus requested size) goes back into the
     * owner's live bytes here, read before the owner can allocate them again.
     */
    int collectRemote() {
        int count = 0;
        long slackBack = 0;
        for (int w = 0; w < words; w++) {
            long r = (long) BITS.getVolatile(bits, 2 * w + 1);
            if (r == 0) continue;
            long f = bits[2 * w];
            long fresh = r & ~f;
            long twice = r & f;
            bits[2 * w] = f | r;
            summary |= 1L << w;
            BITS.getAndBitwiseAnd(bits, 2 * w + 1, ~r); // release: publishes the free bits set above
            count += Long.bitCount(fresh);
            slackBack += slackOf(w, fresh);
            if (fresh != 0 && wideSlack != 0) wideSlack = 0; // a medium block collected free: see wideSlack
            // A block freed here and by another thread: the other thread's count (at the block size) is taken back,
            // and for a medium block the rounding its free took out a second time (LocalHeap.freeRemote)
            for (long t = twice; t != 0; t &= t - 1) {
                owner.uncountFree(blockSize);
                if (capacity == 1) owner.mediumRounding += blockSize - requestedSize(0); // as freeRemoteMedium read it
            }
        }
        used -= count;
        if (slackBack != 0) owner.countUnseen(slackBack);
        return count;
    }

    /**
     * Owner only: clears the remote bits of blocks that are free in the owner's bitmap (double frees that slipped
     * through, see the class comment) and takes back their second count, as {@link #collectRemote} would. The owner
     * calls it before it hands such a block out again: collected after that, the bit would free the new block. Leaves
     * the other remote bits and the pending flag alone (a collection of this slab then finds what is left).
     */
    void dropTwiceFreed() {
        for (int w = 0; w < words; w++) {
            long twice = (long) BITS.getVolatile(bits, 2 * w + 1) & bits[2 * w];
            if (twice == 0) continue;
            BITS.getAndBitwiseAnd(bits, 2 * w + 1, ~twice);
            for (long t = twice; t != 0; t &= t - 1) {
                owner.uncountFree(blockSize);
                if (capacity == 1) owner.mediumRounding += blockSize - requestedSize(0); // see collectRemote
            }
        }
    }

    /**
     * @return what the live-byte counters owe for the blocks in the remote bitmap, which other threads freed and
     *         counted at their block size and the owner has not collected yet: each block's slack (block size minus
     *         requested size), or its whole block size for a block also free in the owner's bitmap (a double free that
     *         slipped through the race in the class comment, which {@link #collectRemote} takes back). Any thread;
     *         racy, exact when quiescent (a block stays in the remote bitmap, its slack unchanged, until its owner
     *         collects it).
     */
    long remoteSlack() {
        long owed = 0;
        for (int w = 0; w < words; w++) {
            long r = (long) BITS.getAcquire(bits, 2 * w + 1);
            if (r == 0) continue;
            long twice = r & (long) BITS.getOpaque(bits, 2 * w);
            owed += (long) Long.bitCount(twice) * blockSize;
            owed += slackOf(w, r & ~twice);
        }
        return owed;
    }
}
