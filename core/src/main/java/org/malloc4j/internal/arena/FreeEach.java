package org.malloc4j.internal.arena;

import java.util.function.LongConsumer;
import org.malloc4j.HeapCorruptionException;
import org.malloc4j.internal.BlockAllocator;

/**
 * Frees an arena's blocks one after another when it closes, going on past damage: in CHECKED mode a free that finds
 * a damaged block (its own, or one it pushes out of quarantine) has freed the block all the same and then throws, and
 * stopping there would leave the arena's other blocks allocated for good (the arena is closed, nothing frees them
 * later). {@link #rethrow()} then throws the first damage found, the others suppressed in it.
 */
final class FreeEach implements LongConsumer {
    private final BlockAllocator heap;
    private HeapCorruptionException first;

    FreeEach(BlockAllocator heap) {
        this.heap = heap;
    }

    @Override
    public void accept(long block) {
        try {
            heap.free(block);
        } catch (HeapCorruptionException e) {
            if (first == null) first = e;
            else first.addSuppressed(e);
        }
    }

    /** Throws the first damage found, if any. */
    void rethrow() {
        if (first != null) throw first;
    }
}
