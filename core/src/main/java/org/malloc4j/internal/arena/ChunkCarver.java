package org.malloc4j.internal.arena;

import java.util.Arrays;
import java.util.function.LongConsumer;
import org.malloc4j.HeapExhaustedException;
import org.malloc4j.internal.BlockAllocator;

/**
 * Carves an arena's small segments out of chunks, heap blocks of 4 KiB doubling up to 64 KiB, by bumping a pointer,
 * so that an arena's segment costs a few instructions instead of a heap malloc, and closing the arena frees a chunk
 * per 64 KiB instead of every segment.
 *
 * <p><b>Early frees.</b> Each chunk keeps, per 16-byte granule, the size class of the live segment starting there
 * ({@link Chunk#starts}), so a free is validated (a segment already freed, or an address inside one, starts no live
 * segment) without trusting the chunk's memory. The last segment carved is un-carved (the pointer goes back); any
 * other goes onto a stack of its size class ({@link #classOf}), whose next allocation takes it: memory freed early is
 * reused within the arena, and all of it goes back to the heap when the arena closes.
 *
 * <p><b>What is carved.</b> Segments of up to {@link #MAX_CARVED} bytes aligned to at most {@link #MAX_ALIGNMENT}: the
 * rest are heap blocks of their own (the arena's per-block path), whose padding and rounding the heap bounds better.
 * Carving starts one granule into each chunk, so a segment's address is never the start of a heap block: the heap's
 * own validation rejects {@code heap.free(segment.address())} as a pointer inside a block.
 *
 * <p>Costs: O(1) allocate and free (the chunk of an address is the current one, one of at most four smaller first
 * chunks, or found in a hash map of the 64 KiB ones); memory: a chunk's last few bytes when the next segment does
 * not fit, and a byte of Java heap per granule. Not thread-safe: the arena guards it.
 */
final class ChunkCarver {
    /** log2 of the granule: every segment starts on a 16-byte boundary. */
    static final int GRANULE_SHIFT = 4;
    /** The largest segment carved, in bytes. */
    static final int MAX_CARVED = 4096;
    /** The largest alignment carved: beyond it, the padding is better left to the heap. */
    static final int MAX_ALIGNMENT = 256;
    /** The first chunk's size: an arena of a few segments takes a page, not 64 KiB. */
    static final int FIRST_CHUNK = 4096;
    /** The size of every chunk after the first few. */
    static final int CHUNK = 64 * 1024;

    /** The result of {@link #release}: the address is in no chunk of this arena. */
    static final int NOT_CARVED = 0;
    /** The result of {@link #release}: the segment was live and is freed. */
    static final int FREED = 1;
    /** The result of {@link #release}: the address is in a chunk but starts no live segment. */
    static final int INVALID = 2;

    /** Classes 1 to 64: 16 to 1024 bytes in steps of 16; 65 to 76: up to 4 KiB in steps of 256 (class 0 unused). */
    private static final int CLASSES = 64 + (MAX_CARVED - 1024) / 256 + 1;
    private static final int MAX_SMALL_CHUNKS = Integer.numberOfTrailingZeros(CHUNK / FIRST_CHUNK);

    private final BlockAllocator heap;
    /** One past the largest size carved: {@link #MAX_CARVED} + 1, or 0 for a carver that carves nothing. */
    private final long sizeLimit;
    private Chunk[] chunks = new Chunk[8];
    private int chunkCount;
    /** The chunks below {@link #CHUNK} bytes: at most one of each size, so at most four. */
    private final Chunk[] smallChunks = new Chunk[MAX_SMALL_CHUNKS];
    private int smallCount;
    /** The base of each {@link #CHUNK}-byte chunk to its index in {@link #chunks}, plus one. */
    private final AddressMap bigChunks = new AddressMap();
    private int nextChunkSize = FIRST_CHUNK;

    /** The chunk being carved, and the free part of it: {@code [top, end)}. */
    private Chunk current;
    private long top, end;
    /**
     * The current chunk's base and granule map, kept beside {@code top}: the carve and un-carve of a segment read
     * them without a load of the chunk object first.
     */
    private long currentBase = Long.MIN_VALUE;
    private byte[] currentStarts = new byte[0];

    /** Per size class, a stack of segments freed early, and its depth. */
    private final long[][] freed = new long[CLASSES][];
    private final int[] depth = new int[CLASSES];
    /** Segments on all the stacks: while it is 0, an allocation bumps the pointer without looking at a stack. */
    private int stacked;

    /** @param carve false for a carver that carves nothing (every segment of its arena is a heap block) */
    ChunkCarver(BlockAllocator heap, boolean carve) {
        this.heap = heap;
        this.sizeLimit = carve ? MAX_CARVED + 1 : 0;
    }

    /** @return whether this carver carves at all */
    boolean carves() {
        return sizeLimit != 0;
    }

    /** @return whether a segment of this size and alignment is carved (else it is a heap block of its own) */
    static boolean carves(long byteSize, long alignment) {
        return byteSize <= MAX_CARVED && alignment <= MAX_ALIGNMENT;
    }

    /**
     * @return whether the arguments are valid (a size of 0 or more, an alignment that is a power of two) and this
     *         carver carves a segment of them: one unsigned compare per bound, so that a negative value fails too
     */
    boolean carvesValid(long byteSize, long alignment) {
        return Long.compareUnsigned(byteSize, sizeLimit) < 0 && Long.compareUnsigned(alignment - 1, MAX_ALIGNMENT) < 0
                && (alignment & (alignment - 1)) == 0;
    }

    /**
     * {@return the number of live carved segments} Counted by walking the chunks' granules (a diagnostic, O(chunk
     * bytes / 16)): a counter kept on every allocate and free cost about 6% of an arena block (A/B, 7.4 to 7.0 ns).
     */
    int live() {
        int n = 0;
        for (int i = 0; i < chunkCount; i++) {
            for (byte b : chunks[i].starts) {
                if (b != 0) n++;
            }
        }
        return n;
    }

    /**
     * For a leak report: gives each chunk's base to {@code bases}, in the order the chunks were taken, and counts the
     * live carved segments and their bytes, each by its class's size (the exact size asked is not kept: a field
     * written per segment would cost the carving path). A confined arena's report may come from another thread: each
     * array is read once and every index bounded, so that a racy look never throws.
     *
     * @return {live carved segments, their bytes}
     */
    long[] look(LongConsumer bases) {
        Chunk[] all = chunks;
        int n = Math.min(chunkCount, all.length);
        long segments = 0, bytes = 0;
        for (int i = 0; i < n; i++) {
            Chunk k = all[i];
            if (k == null) continue;
            bases.accept(k.base);
            for (byte c : k.starts) {
                if (c <= 0) continue;
                segments++;
                bytes += sizeOf(c);
            }
        }
        return new long[] {segments, bytes};
    }

    /**
     * Carves a segment. The caller checked {@link #carves} and the arguments.
     *
     * @return its address, a multiple of {@code alignment} and of 16
     * @throws org.malloc4j.HeapExhaustedException if a new chunk is needed and the heap cannot give it; nothing
     *         changes then
     */
    long allocate(long byteSize, long alignment) {
        // The class and its size together, in one branch each (classOf and sizeOf would branch twice).
        int c, size;
        if (byteSize <= 1024) {
            // ceil(byteSize / 16), and 1 for 0 (the sign bit of byteSize - 1 adds a granule): no compare.
            c = (int) ((byteSize + 15 | ((byteSize - 1) >>> 63) << GRANULE_SHIFT) >>> GRANULE_SHIFT);
            size = c << GRANULE_SHIFT;
        } else {
            c = classOf(byteSize);
            size = sizeOf(c);
        }
        int d;
        long a;
        if (stacked != 0 && (d = depth[c]) > 0 && (freed[c][d - 1] & (alignment - 1)) == 0) {
            a = freed[c][d - 1];
            depth[c] = d - 1;
            stacked--;
            Chunk k = chunkOf(a);
            k.starts[(int) ((a - k.base) >>> GRANULE_SHIFT)] = (byte) c;
        } else {
            a = (top + alignment - 1) & -alignment;
            if (a + size > end) a = carveNewChunk(size, alignment, byteSize);
            top = a + size;
            currentStarts[(int) ((a - currentBase) >>> GRANULE_SHIFT)] = (byte) c;
        }
        return a;
    }

    /**
     * Frees a carved segment early.
     *
     * @return {@link #FREED}; {@link #INVALID} when {@code address} is inside a chunk but starts no live segment
     *         (freed already, or inside one); {@link #NOT_CARVED} when it is in no chunk of this arena
     */
    int release(long address) {
        // One compare for the common case, a segment of the chunk being carved: rotated, an offset into the chunk
        // that is not a multiple of the granule, or negative, has high bits set and is beyond any map (such an
        // address goes the general way, which says what is wrong with it).
        long g = Long.rotateRight(address - currentBase, GRANULE_SHIFT);
        byte[] starts = currentStarts;
        if (Long.compareUnsigned(g, starts.length) < 0) return releaseCurrent(starts, (int) g, address);
        Chunk k = chunkOf(address);
        return k == null ? NOT_CARVED : release(k.starts, address - k.base, address);
    }

    /** Frees the segment at {@code address}, granule {@code g} of the chunk being carved (a granule boundary). */
    private int releaseCurrent(byte[] starts, int g, long address) {
        int c = starts[g];
        if (c == 0) return INVALID;
        starts[g] = 0;
        if (address + sizeOf(c) == top) {
            top = address; // the last segment carved: carve its memory again next
        } else {
            push(c, address);
        }
        return FREED;
    }

    /**
     * Frees the segment at {@code address}, {@code rel} bytes into a chunk that is not being carved (or an address
     * of the current chunk that is not on a granule boundary: refused here): its memory goes on its class's stack.
     */
    private int release(byte[] starts, long rel, long address) {
        if ((rel & ((1 << GRANULE_SHIFT) - 1)) != 0) return INVALID;
        int g = (int) (rel >>> GRANULE_SHIFT);
        int c = starts[g];
        if (c == 0) return INVALID;
        starts[g] = 0;
        push(c, address);
        return FREED;
    }

    /**
     * Forgets every chunk and segment, the arena is closing, after giving each chunk to {@code free}, unless it is
     * null (the heap is closed: it gave all its memory back).
     */
    void freeAll(LongConsumer free) {
        if (free != null) {
            for (int i = 0; i < chunkCount; i++) free.accept(chunks[i].base);
        }
        chunks = new Chunk[0];
        chunkCount = 0;
        Arrays.fill(smallChunks, null);
        smallCount = 0;
        bigChunks.clear();
        current = null;
        currentBase = Long.MIN_VALUE;
        currentStarts = new byte[0];
        top = end = 0;
        Arrays.fill(freed, null);
        Arrays.fill(depth, 0);
        stacked = 0;
    }

    /**
     * The arena's own size classes, computed rather than looked up (two table loads fewer per segment than the
     * heap's classes, and finer: 16-byte steps up to 1 KiB, where the heap's waste up to 20%).
     */
    static int classOf(long byteSize) {
        if (byteSize <= 1024) return Math.max(1, (int) ((byteSize + 15) >>> 4));
        return 64 + (int) ((byteSize - 1024 + 255) >>> 8);
    }

    /** @return the size in bytes of the arena's class {@code c} */
    static int sizeOf(int c) {
        return c <= 64 ? c << 4 : 1024 + ((c - 64) << 8);
    }

    /** @return the chunk that holds {@code address}, or null */
    private Chunk chunkOf(long address) {
        Chunk k = current;
        if (k != null && k.contains(address)) return k;
        long base = address & -(long) CHUNK;
        if (base != 0) {
            long index = bigChunks.get(base);
            if (index != 0) return chunks[(int) index - 1];
        }
        for (int i = 0; i < smallCount; i++) {
            if (smallChunks[i].contains(address)) return smallChunks[i];
        }
        return null;
    }

    /** Takes a new chunk from the heap, makes it current, and returns where a segment of this size goes in it. */
    private long carveNewChunk(int size, long alignment, long byteSize) {
        long first = Math.max(1 << GRANULE_SHIFT, alignment); // the chunk's first granule is never a segment
        int chunkSize = nextChunkSize;
        while (chunkSize < first + size) chunkSize <<= 1; // at most 8 KiB for the largest carved segment
        long base;
        try {
            base = heap.arenaChunk(chunkSize, byteSize);
        } catch (HeapExhaustedException e) {
            // In the program's terms: the segment it asked for, not the chunk it would have been carved from
            throw BlockAllocator.askedFor(e, byteSize, chunkSize, "a " + chunkSize + "-byte chunk to carve it from");
        }
        Chunk k = new Chunk(base, chunkSize);
        if (chunkCount == chunks.length) chunks = Arrays.copyOf(chunks, Math.max(8, chunkCount * 2));
        chunks[chunkCount++] = k;
        if (chunkSize < CHUNK) {
            smallChunks[smallCount++] = k;
        } else {
            bigChunks.put(base, chunkCount);
        }
        nextChunkSize = Math.min(CHUNK, chunkSize << 1);
        current = k;
        currentBase = base;
        currentStarts = k.starts;
        end = base + chunkSize;
        return base + first;
    }

    private void push(int c, long address) {
        long[] stack = freed[c];
        int d = depth[c];
        if (stack == null) {
            freed[c] = stack = new long[16];
        } else if (d == stack.length) {
            freed[c] = stack = Arrays.copyOf(stack, d * 2);
        }
        stack[d] = address;
        depth[c] = d + 1;
        stacked++;
    }
}
