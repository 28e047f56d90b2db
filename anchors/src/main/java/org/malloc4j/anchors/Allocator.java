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

    /**
     * Gives the memory the allocator holds free back to the OS, as far as the allocator can be asked to: the
     * replay calls it after each trace, so that the next trace in the same JVM does not reuse pages the last one
     * left resident without its peak RSS showing them. malloc4j's heap {@code trim()}s; the native allocators
     * call what each offers (glibc {@code malloc_trim(0)}, jemalloc a tcache flush and a purge of every arena,
     * mimalloc {@code mi_collect(true)}, tcmalloc marks the thread idle and releases its free pages). None of
     * them promises to give back everything: after a replay of sqlite3's trace and a release, glibc's next run
     * of it rose 11.6 MiB for 20 MiB live, so a figure taken after a release is a lower bound.
     */
    default void releaseFreeMemory() {}

    /**
     * @return whether the allocator's own code is Java, which the JIT compilers compile as a trace first reaches
     *         it (malloc4j): a first run's peak RSS then holds their work too, and the replay rehearses the trace
     *         before it measures. A native allocator's code is compiled already.
     */
    default boolean isJava() {
        return false;
    }

    /** Releases what the allocator holds, where it can (closing a malloc4j heap); native ones do nothing. */
    @Override
    default void close() {}
}
