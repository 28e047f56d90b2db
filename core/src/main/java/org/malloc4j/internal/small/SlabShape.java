package org.malloc4j.internal.small;

/**
 * The fields of a {@link Slab} that a freeing thread reads, its own or another: where the blocks are, how big, who
 * owns them, the bitmaps and requested sizes, and the sampling flag. Written when the slab is made or reused, and
 * rarely after (an adoption changes the owner; sampling sets its flag atomically).
 *
 * <p>Kept apart from the owner's counters ({@link Slab#summary}, {@link Slab#used}, written on every malloc and
 * free) and from the pending flag ({@link SlabPending}, set by a remote free and cleared by the owner's collect) by
 * a cache line of nothing each: in one object they shared a line, which a thread freeing another thread's blocks (a
 * producer and a consumer) then fetched again on every free, after every malloc of the owner or every collect.
 */
abstract class SlabShape {
    /** Address of block 0 (changes only when the owner reuses this object for a new slab of the same class). */
    public long base;
    public final int blockSize;
    public final int capacity;
    public final int sizeClass;
    public final int pages;
    /** Bytes covered by the blocks, {@code capacity * blockSize}: an offset below it is inside some block. */
    final long span;
    /** {@code ceil(2^40 / blockSize)}: block index = {@code offset * magic >>> 40}, exact for slab offsets. */
    final long magic;
    /**
     * The owning cache; null for the empty sentinel. It changes only when the owner's thread has died and another
     * cache adopts the slab: a thread that reads a stale owner takes the remote path, which is always safe.
     */
    public LocalHeap owner;

    /**
     * The two bitmaps, interleaved so that the words a free checks share a cache line: {@code bits[2w]} is word w
     * of the free bitmap (bit set = block free; owner-only plain accesses), {@code bits[2w + 1]} word w of the
     * remote bitmap (blocks freed by other threads, not yet collected; atomic OR by them, collected by the owner).
     */
    final long[] bits;
    final int words;
    /**
     * Requested size = blockSize - slack, one char a block: a class's slack can reach its whole size (an aligned
     * request puts a small size in a large class), and a single array type keeps the fast path branch-free.
     */
    final char[] slack;
    /**
     * A medium slab's (one block) slack beyond what its {@code slack[0]} holds, 0 but for a block that a realloc shrank
     * in place more than 64 KiB below its class: the requested size is then {@code blockSize - slack[0] - wideSlack}.
     * Kept out of the small blocks' fast paths, which read and write {@code slack} alone: 0 whenever the block is handed
     * out (a malloc from the medium stack resets it, and the collection of another thread's free), so that a malloc's
     * write of {@code slack[0]} is the whole size. Kept through its owner's free, so that another thread's free racing
     * it (a double free) reads the rounding the owner's collection takes back. Written by the block's holder, as
     * {@code slack} is.
     */
    int wideSlack;

    /**
     * Live blocks of this slab whose allocation site was sampled, and those a layer of the heap holds ({@link #held}):
     * while it is not 0, frees take the slow path, which tells the site recorder and refuses a held block. Written
     * atomically by any thread; the fast path reads it plain (the freeing thread got the address after the allocation
     * that counted it).
     */
    public int sampled;
    /**
     * Per block, what holds it when an arena or a thread stack of the heap does (its kind, see {@link Slab#hold}), else
     * 0; null until the slab's first such block. The program's free, realloc and usableSize of a held block are
     * refused on the slow path that {@link #sampled} sends them to, so the fast path never reads it.
     */
    byte[] held;

    SlabShape(long base, int sizeClass, int pages, LocalHeap owner) {
        this.base = base;
        this.sizeClass = sizeClass;
        this.blockSize = SizeClasses.size(sizeClass);
        this.pages = pages;
        this.capacity = (int) (((long) pages << 12) / blockSize);
        this.span = (long) capacity * blockSize;
        this.magic = ((1L << 40) + blockSize - 1) / blockSize;
        this.owner = owner;
        int words = (capacity + 63) >>> 6;
        this.words = words;
        this.bits = new long[2 * words];
        for (int w = 0; w < words; w++) {
            int n = Math.min(64, capacity - (w << 6));
            bits[2 * w] = n == 64 ? -1L : (1L << n) - 1;
        }
        this.slack = new char[capacity];
    }

    /**
     * An estimate of a slab object's own size on the Java heap, arrays apart: its fields (about 80 bytes), the two
     * cache lines of padding that keep the freeing threads' fields, the owner's counters and the pending flag apart
     * (2 x 68 bytes), and the object header.
     */
    private static final int OBJECT_BYTES = 256;

    /**
     * @return the Java heap this slab's bookkeeping takes: its object ({@link #OBJECT_BYTES}, an estimate) and its two
     *         arrays, bitmaps and requested sizes (two bytes a block), each with a 16-byte header
     */
    public long metadataBytes() {
        return OBJECT_BYTES + 16 + 8L * bits.length + ((16 + 2L * slack.length + 7) & ~7L);
    }

    /** The empty sentinel's shape: no blocks. */
    SlabShape() {
        base = 0;
        blockSize = 16;
        capacity = 0;
        sizeClass = 0;
        pages = 0;
        span = 0;
        magic = 0;
        owner = null;
        bits = new long[0];
        words = 0;
        slack = new char[0];
    }
}
