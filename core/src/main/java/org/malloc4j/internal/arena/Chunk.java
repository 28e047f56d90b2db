package org.malloc4j.internal.arena;

/**
 * One heap block that an arena carves small segments out of ({@link ChunkCarver}). It remembers which of its
 * 16-byte granules starts a live segment, and the size class of that segment, so that an early free is validated
 * and recycled without a header in the chunk's memory (where a program's underflow could forge one).
 */
final class Chunk {
    /** The chunk's address: the heap block's start, never a segment (carving starts one granule in). */
    final long base;
    /** The chunk's size in bytes: a power of two, and the chunk is aligned to it. */
    final int size;
    /** Per granule: the size class ({@link ChunkCarver#classOf}, never 0) of the live segment starting there, or 0. */
    final byte[] starts;

    Chunk(long base, int size) {
        this.base = base;
        this.size = size;
        this.starts = new byte[size >>> ChunkCarver.GRANULE_SHIFT];
    }

    boolean contains(long address) {
        return address - base >= 0 && address - base < size;
    }
}
