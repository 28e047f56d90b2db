package org.malloc4j.internal.arena;

import java.util.function.LongConsumer;
import org.malloc4j.HeapCorruptionException;

/**
 * Frees an arena's blocks one after another when it closes, going on past damage: in CHECKED mode a free that finds
 * a damaged block (its own, or one it pushes out of quarantine) has freed the block all the same and then throws, and
 * stopping there would leave the arena's other blocks allocated for good (the arena is closed, nothing frees them
 * later). {@link #rethrow()} then throws the first damage found, the others suppressed in it.
 */
final class FreeEach {
    private HeapCorruptionException first;

    /** @return a consumer that frees each block it is given with {@code free}, keeping the damage found */
    LongConsumer with(LongConsumer free) {
        return block -> {
            try {
                free.accept(block);
            } catch (HeapCorruptionException e) {
                if (first == null) first = e;
                else first.addSuppressed(e);
            }
        };
    }

    /** Throws the first damage found, if any. */
    void rethrow() {
        if (first != null) throw first;
    }
}
