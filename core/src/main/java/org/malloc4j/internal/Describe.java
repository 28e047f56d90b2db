package org.malloc4j.internal;

import java.util.List;
import org.malloc4j.internal.page.PageHeap;
import org.malloc4j.internal.small.Slab;

/** The words of {@link org.malloc4j.InvalidFreeException}: what an address that is not a live block is. */
final class Describe {
    private Describe() {}

    static String hex(long address) {
        return "0x" + Long.toHexString(address);
    }

    static String foreign(long address, HeapCore self, List<HeapCore> open) {
        for (HeapCore other : open) {
            if (other != self && other.contains(address)) {
                return hex(address) + " is not from this heap (" + self.name() + "): it belongs to heap "
                        + other.name();
            }
        }
        return hex(address) + " is not from this heap (" + self.name() + "): it is outside its reserved range";
    }

    static String insideSlab(long address, Slab slab) {
        int idx = slab.blockContaining(address);
        if (idx < 0) {
            return hex(address) + " is not a block: it lies past the last " + slab.blockSize
                    + "-byte block of its slab";
        }
        long start = slab.blockAddress(idx);
        // Said of a slot no longer live too: else the program is sent to a start whose free is "already freed"
        boolean live = slab.isAllocatedLocal(idx);
        return hex(address) + " is inside the " + slab.blockSize + "-byte block at " + hex(start) + " (offset "
                + (address - start) + "), not at its start" + (live ? heldBy(slab.heldKind(idx))
                        : "; that block is not live (already freed, or never allocated)");
    }

    /**
     * @return the words that say that the block an address lies inside is held by a layer of the heap ({@code kind},
     *         {@code HeapCore.HELD_*}), or "" for 0: else the program, given an arena segment's or a stack frame's
     *         address, is sent to a block start whose free is then refused as the heap's own
     */
    private static String heldBy(int kind) {
        if (kind == HeapCore.HELD_STACK) {
            return "; that block is one of the heap's thread stacks (Heap.stack()), whose frames hand out the memory"
                    + " in it: a frame's segments are freed when it is popped";
        }
        if (kind == HeapCore.HELD_ARENA) {
            return "; that block is one that the heap's arenas hold: an arena's segments are freed through the arena"
                    + " (Heap.free(segment)) or when it closes";
        }
        return "";
    }

    static String alreadyFreed(long address, int blockSize) {
        return hex(address) + " is not a live block: the " + blockSize
                + "-byte block there is already freed (or was never allocated)";
    }

    /** @return the words for a block of the heap's own that a layer holds, {@code kind} ({@code HeapCore.HELD_*}) */
    static String held(long address, int kind) {
        if (kind == HeapCore.HELD_STACK) {
            return hex(address) + " is the block of one of the heap's thread stacks (Heap.stack()), whose frames hand"
                    + " out the memory in it: not a block of the program's, the heap frees it itself";
        }
        return hex(address) + " is a block that one of the heap's arenas holds (a chunk its small segments are carved"
                + " from, or the block of one of its segments): not a block of the program's, freed when the arena"
                + " closes or its segment is freed (Heap.free(segment))";
    }

    /** @return the words for a layer's free of {@code address}, which is not a block it holds ({@code kind}) */
    static String notHeld(long address, int kind) {
        return hex(address) + " is not a live block of " + (kind == HeapCore.HELD_STACK ? "a thread stack" : "an arena")
                + " of this heap";
    }

    static String notABlock(long address, PageHeap pages) {
        // Walk back (error path only, bounded) to the run that holds the address.
        int run = pages.runContaining(address, 1 << 18);
        if (run >= 0) {
            long start = pages.address(run);
            if (pages.isUsedRun(run)) {
                return hex(address) + " is inside the " + (pages.blockPages(start) << PageHeap.PAGE_SHIFT)
                        + "-byte block at " + hex(start) + " (offset " + (address - start) + "), not at its start"
                        + heldBy(pages.heldKind(start));
            }
            if (pages.isFreeRun(run)) {
                return hex(address) + " is not a live block: the memory there is already freed (or was never "
                        + "allocated)";
            }
        }
        return hex(address) + " is not the start of a live block of this heap";
    }
}
