package org.malloc4j.anchors;

/**
 * One allocator behind the four C calls, so that malloc4j and the native anchors run the same driver code.
 * Implementations are thread-safe when the allocator is.
 */
public interface Allocator extends AutoCloseable {
    /** @return a short name: {@code malloc4j}, {@code glibc}, {@code jemalloc}, {@code mimalloc}, {@code tcmalloc} */
    String name();

    long malloc(long size);

    void free(long address);

    long realloc(long address, long size);

    long calloc(long count, long size);

    /** Releases what the allocator holds, where it can (closing a malloc4j heap); native ones do nothing. */
    @Override
    default void close() {}
}
