package org.malloc4j.internal;

import org.malloc4j.HeapExhaustedException;

/**
 * The block interface that arenas and stacks build on: the heap's engine in FAST mode, the checked layer (red zones,
 * quarantine) in CHECKED mode, so that their blocks get the same protection as the program's own.
 */
public interface BlockAllocator {
    /** @return a block of at least {@code size} bytes, 16-byte aligned */
    long malloc(long size);

    /** @return a block of at least {@code size} bytes aligned to {@code alignment}, a power of two */
    long alignedAlloc(long alignment, long size);

    /** Frees a block from {@link #malloc} or {@link #alignedAlloc}; validated. */
    void free(long address);

    /**
     * @return how far into a block from {@link #arenaBlock} its arena segment starts: far enough in FAST mode that the
     *         segment's address is no block's, so that a free of it through the heap is refused; 0 in CHECKED mode,
     *         whose header marks the block as an arena's (the segment then sits between the red zones)
     */
    long arenaOffset(long alignment);

    /**
     * @return a block for an arena segment of {@code size} bytes aligned to {@code alignment} (a power of two), which
     *         starts {@link #arenaOffset} bytes into it
     */
    long arenaBlock(long alignment, long size);

    /**
     * @return a block of {@code size} bytes aligned to {@code size} (a power of two) for an arena to carve segments
     *         from, the first of which is of {@code asked} bytes (what a refusal tells JFR); freed by
     *         {@link #freeArenaBlock}
     */
    long arenaChunk(long size, long asked);

    /**
     * Frees a block from {@link #arenaBlock} or {@link #arenaChunk}; validated. Such a block is the arena's: the
     * program's {@code free}, {@code realloc} and {@code usableSize} of its address are refused.
     */
    void freeArenaBlock(long block);

    /**
     * @return a block of {@code size} bytes, 16-byte aligned, for a thread stack; as an arena's, the program's
     *         {@code free}, {@code realloc} and {@code usableSize} of its address are refused
     */
    long stackBlock(long size);

    /** Frees a block from {@link #stackBlock}; validated. */
    void freeStackBlock(long block);

    /**
     * For a leak report: the bytes the heap's live figures count for the live block of {@link #arenaBlock},
     * {@link #arenaChunk} or {@link #stackBlock} at {@code block} (the engine's request in FAST mode, the arena's
     * offset included; the program's size in CHECKED mode), or -1 when no live block starts there now. Never throws:
     * another thread may free the block meanwhile.
     */
    long heldBytes(long block);

    /** @return the heap's name, for messages */
    String name();

    /** @return true once the heap is closed */
    boolean isClosed();

    /**
     * A refusal in the program's terms, for a layer that asked the heap for more than the program did (an arena's
     * offset, the chunk a segment is carved from): the same refusal, its request the program's {@code asked} bytes,
     * its message saying so, and what the layer asked for in brackets.
     *
     * @param refused the heap's refusal of {@code taken} bytes
     * @param why what the layer's request was, in words
     */
    static HeapExhaustedException askedFor(HeapExhaustedException refused, long asked, long taken, String why) {
        HeapExhaustedException named = new HeapExhaustedException(asked, String.valueOf(refused.getMessage())
                .replace("cannot allocate " + taken + " bytes", "cannot allocate " + asked + " bytes (" + why + ")"));
        named.initCause(refused);
        return named;
    }
}
