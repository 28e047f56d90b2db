package org.malloc4j.internal.arena;

import java.util.function.LongConsumer;
import org.malloc4j.HeapCorruptionException;

/**
 * Frees an arena's blocks one after another when it closes, going on past damage: in CHECKED mode a free that finds
 * a damaged block (its own, or one it pushes out of quarantine) has freed the block all the same and then throws, and
 * stopping there would leave the arena's other blocks allocated for good (the arena is closed, nothing frees them
 * later). A block whose free is refused outright (damage that leaves it unrecognizable) does not stop it either.
 * {@link #rethrow()} then throws the first damage found (else the first refusal), the others suppressed in it.
 */
final class FreeEach {
    private RuntimeException first;

    /** @return a consumer that frees each block it is given with {@code free}, keeping what the frees threw */
    LongConsumer with(LongConsumer free) {
        return block -> {
            try {
                free.accept(block);
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else if (e instanceof HeapCorruptionException && !(first instanceof HeapCorruptionException)) {
                    e.addSuppressed(first); // damage is the graver finding
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        };
    }

    /** Throws the first damage found (else the first refusal), if any. */
    void rethrow() {
        if (first != null) throw first;
    }
}
