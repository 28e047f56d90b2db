package org.malloc4j;

/**
 * How much checking a heap does on top of its always-on validation of frees. Chosen once, with
 * {@link Heap.Builder#mode(HeapMode)}.
 */
public enum HeapMode {
    /**
     * The default: every {@code free}, {@code realloc} and {@code usableSize} is validated (a bad or double free
     * gets an {@link InvalidFreeException} and changes nothing); nothing else is added to the fast paths.
     */
    FAST,
    /**
     * For tests and staging, on top of {@link #FAST}: red zones (per-heap random canaries) before and after every
     * block, checked on free, on realloc and by {@link Heap#verify()}; new blocks filled with junk ({@code 0xA5})
     * so that no old data shows through; freed blocks filled with poison ({@code 0xDF}) and held in a bounded
     * quarantine before reuse, so that a write after free is found when the block leaves it or by
     * {@link Heap#verify()}; {@code realloc} moves the block (a shrink that the heap's limit refuses the room to
     * move stays in place, its tail canary at the new size); segments from {@link Heap#allocate} each get a scope of
     * their own that {@link Heap#free(java.lang.foreign.MemorySegment)} closes (and a realloc, moving or shrinking
     * in place), so that any later access through them throws {@link IllegalStateException}. Blocks cost 32 more
     * bytes, and segments a shared scope each.
     */
    CHECKED
}
