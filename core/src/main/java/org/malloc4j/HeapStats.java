package org.malloc4j;

/**
 * A snapshot of a heap's figures. The names follow the project's fragmentation vocabulary:
 *
 * @param liveBytes sum of the sizes the program asked for, of blocks not yet freed
 * @param peakLiveBytes the largest {@code liveBytes} seen (exact for one thread; across threads it is sampled
 *        at the heap's slow paths and at each {@code stats()} call)
 * @param committedBytes memory the heap has touched or may have touched and not given back to the OS
 * @param peakCommittedBytes the largest {@code committedBytes} seen
 * @param reservedBytes address space reserved from the OS
 * @param mallocCount blocks allocated, by any of malloc, calloc, realloc (when it moves) and alignedAlloc
 * @param freeCount blocks freed
 * @param freeBytes committed bytes not holding a live block (free slots, free pages, the rounding waste of small
 *        blocks inside their slabs of several blocks); the bytes that round a medium block (above 32 KiB, a slab of one
 *        block) up to its size class, or a page-run block up to whole pages, are the block's until it is freed, so
 *        neither live nor free, and so are the red zones of a live block in {@link HeapMode#CHECKED} mode:
 *        {@code committedBytes - liveBytes - freeBytes} is that overhead. A block waiting in CHECKED mode's quarantine
 *        is free, its red zones with it
 * @param largestFreeBlock the largest contiguous free extent inside committed memory that the page layer holds, in
 *        bytes: its largest free page run. Free memory inside the thread caches (empty slabs kept for reuse, free
 *        slots of slabs in use) is not searched, to keep this call O(thread caches), and so counts as scattered
 * @param retainedBytes committed bytes held in free page runs, waiting for their decay time to pass
 * @param purgeCount system calls made to give memory back to the OS: purges, the moves of free pages into new runs
 *        ({@link Heap.Builder#pageGathering}) and the moves of large blocks that realloc grows elsewhere (at or
 *        above {@link Heap.Builder#releaseThreshold}), each of which gives back the pages' old place, and the remaps of
 *        free pages by which {@link Heap#trim()} joins again the kernel's mappings that such moves split
 * @param threadCaches caches in use: one per live platform thread that allocated, plus the fixed stripes shared
 *        by virtual threads (caches of dead threads are adopted by live ones and stop counting)
 * @param residentBytes bytes of the heap's range that are resident in RAM now, as the kernel reports them
 *        ({@code mincore}): committed pages the program never touched are not resident; retained free pages are
 *        until they are purged. One {@code mincore} call per stretch of committed pages (usually a few): a stretch
 *        reads through the clean pages between its runs (given back, or never touched) where they are under 4 MiB.
 * @param metadataBytes Java-heap bytes of the heap's own bookkeeping, outside {@code committedBytes}: for each slab
 *        holding pages, its object (an estimate) and its arrays, the free bitmaps and the requested size of each block
 *        (two bytes a block: 12.5% of a 16-byte block). A native allocator keeps such data in the memory it maps,
 *        where its RSS counts it; malloc4j's lies on the Java heap, which a JVM run with a fixed, pre-touched heap
 *        does not show in its RSS. Objects of released slabs kept for reuse (a few per class) are not counted.
 * @param peakFootprintBytes the largest {@code committedBytes + metadataBytes} seen: what the heap holds, bookkeeping
 *        included, at its fullest; the figure to set against a native allocator's peak memory
 */
public record HeapStats(
        long liveBytes,
        long peakLiveBytes,
        long committedBytes,
        long peakCommittedBytes,
        long reservedBytes,
        long mallocCount,
        long freeCount,
        long freeBytes,
        long largestFreeBlock,
        long retainedBytes,
        long purgeCount,
        int threadCaches,
        long residentBytes,
        long metadataBytes,
        long peakFootprintBytes) {

    /**
     * {@return {@code 1 - largestFreeBlock / freeBytes}: 0 when the free memory is one extent (or there is none),
     * near 1 when it is scattered in small holes. A heap whose free memory sits in the thread caches (a freed small
     * block's slab kept for reuse) reads near 1 too: see {@code largestFreeBlock}}
     */
    public double externalFragmentation() {
        if (freeBytes <= 0) return 0.0;
        return Math.max(0.0, 1.0 - (double) largestFreeBlock / freeBytes);
    }

    /** {@return peak live bytes over peak committed bytes (the malloc-lab measure); 1.0 before any commit} */
    public double utilization() {
        if (peakCommittedBytes <= 0) return 1.0;
        return (double) peakLiveBytes / peakCommittedBytes;
    }

    /** {@return live blocks: {@code mallocCount - freeCount}} */
    public long liveBlocks() {
        return mallocCount - freeCount;
    }
}
