/**
 * malloc4j's API: a manual heap of native memory on the Foreign Function and Memory API.
 *
 * <ul>
 *   <li>{@link org.malloc4j.Heap}: {@code malloc}, {@code calloc}, {@code realloc}, {@code alignedAlloc} and
 *       {@code free} on raw addresses; {@link org.malloc4j.Heap#allocate(long, long) allocate} and
 *       {@link org.malloc4j.Heap#free(java.lang.foreign.MemorySegment) free} on bounds-checked segments (a heap is a
 *       {@link java.lang.foreign.SegmentAllocator}); arenas whose blocks can be freed early
 *       ({@link org.malloc4j.Heap#newArena()}, {@link org.malloc4j.Heap#newSharedArena()}); figures
 *       ({@link org.malloc4j.HeapStats}, {@link org.malloc4j.HeapSnapshot}). Get one with
 *       {@link org.malloc4j.Heap#global()}, {@link org.malloc4j.Heap#create()} or {@link org.malloc4j.Heap#builder()}.
 *   <li>{@link org.malloc4j.HeapStack} and {@link org.malloc4j.StackFrame}: a per-thread stack allocator for scratch
 *       memory freed in LIFO frames ({@link org.malloc4j.Heap#stack()}).
 *   <li>Failures: {@link org.malloc4j.InvalidFreeException} (a bad {@code free}, {@code realloc} or
 *       {@code usableSize}; the heap is unchanged), {@link org.malloc4j.HeapExhaustedException} and
 *       {@link org.malloc4j.StackExhaustedException} (both {@link java.lang.OutOfMemoryError}s; the heap stays usable).
 * </ul>
 *
 * <p>The heap makes FFM downcalls ({@code mmap}, {@code madvise}, {@code munmap}, {@code mremap}, {@code mincore}):
 * run with {@code --enable-native-access=ALL-UNNAMED} on the class path, {@code --enable-native-access=org.malloc4j}
 * on the module path.
 */
package org.malloc4j;
