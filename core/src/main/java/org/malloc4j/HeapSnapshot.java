package org.malloc4j;

import java.util.List;

/**
 * A picture of a heap's address space at one moment, for heap maps and reports: every run of pages in the part
 * of the reservation the heap has used, what it holds, and the small-block figures per size class. Taking one
 * walks the heap's runs (O(runs + small blocks)); it is meant for tools, not for hot paths. Figures of slabs owned
 * by other threads are read without stopping them, so a snapshot taken while threads run is approximate.
 *
 * @param base the address of the heap's first page
 * @param reservedBytes address space the heap reserved
 * @param pageSize the page size of the heap's runs
 * @param runs the runs of pages from {@code base} up to the end of the last run that is not a clean free tail
 * @param classes one entry per small size class that has at least one slab
 */
public record HeapSnapshot(long base, long reservedBytes, int pageSize, List<Run> runs, List<SizeClassUsage> classes) {

    /** What a run of pages holds. */
    public enum Kind {
        /** A medium or large block handed to the program. */
        BLOCK,
        /** A slab of small blocks of one size class. */
        SLAB,
        /** Free pages that may still be resident (waiting for their decay time). */
        FREE_DIRTY,
        /** Free pages given back to the OS. */
        FREE_CLEAN
    }

    /**
     * One run of pages.
     *
     * @param offset bytes from {@link #base()}
     * @param bytes length in bytes
     * @param kind what it holds
     * @param blockSize for a slab, its blocks' size; for a block, its requested size; else 0
     * @param blocks for a slab, its capacity in blocks; for a block, 1; else 0
     * @param liveBlocks for a slab, blocks allocated; for a block, 1; else 0
     */
    public record Run(long offset, long bytes, Kind kind, long blockSize, int blocks, int liveBlocks) {
        /** {@return the share of the run in use: live blocks over blocks, 0 for free runs} */
        public double occupancy() {
            return blocks == 0 ? 0.0 : (double) liveBlocks / blocks;
        }
    }

    /**
     * Small blocks of one size class.
     *
     * @param blockSize the class's block size
     * @param slabs slabs of this class
     * @param slabBytes bytes of those slabs
     * @param liveBlocks blocks allocated
     * @param freeBlocks blocks free inside those slabs
     * @param requestedBytes sum of the sizes asked for, of the live blocks
     */
    public record SizeClassUsage(int blockSize, int slabs, long slabBytes, long liveBlocks, long freeBlocks,
            long requestedBytes) {
        /** {@return rounding waste: bytes of live blocks beyond what was asked for} */
        public long wasteBytes() {
            return liveBlocks * blockSize - requestedBytes;
        }
    }
}
