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
        return hex(address) + " is inside the " + slab.blockSize + "-byte block at " + hex(start) + " (offset "
                + (address - start) + "), not at its start";
    }

    static String alreadyFreed(long address, int blockSize) {
        return hex(address) + " is not a live block: the " + blockSize
                + "-byte block there is already freed (or was never allocated)";
    }

    static String notABlock(long address, PageHeap pages) {
        long page = address & -PageHeap.PAGE;
        if (pages.isInsideFirstPageOfBlock(address)) {
            return hex(address) + " is inside the " + (pages.blockPages(page) << PageHeap.PAGE_SHIFT)
                    + "-byte block at " + hex(page) + " (offset " + (address - page) + "), not at its start";
        }
        if (pages.isFreeRunStart(page)) {
            return hex(address) + " is not a live block: the memory there is already freed (or was never allocated)";
        }
        return hex(address) + " is not the start of a live block: it lies inside a block or a free range of "
                + "this heap";
    }
}
