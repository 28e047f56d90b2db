package org.malloc4j.internal;

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

    /** @return the heap's name, for messages */
    String name();

    /** @return true once the heap is closed */
    boolean isClosed();
}
