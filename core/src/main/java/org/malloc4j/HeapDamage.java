package org.malloc4j;

import java.util.List;

/**
 * One damaged block found by a {@link HeapMode#CHECKED} heap: which block, what was overwritten, and where the block
 * was allocated when its site was recorded ({@link Heap.Builder#trackSites(double)}).
 *
 * @param address the block's address, as {@code malloc} returned it
 * @param size the block's size, as requested
 * @param kind what kind of damage
 * @param offset where the first damaged byte is, relative to {@code address}: negative before the block,
 *        {@code size} or more past its end, inside it for a write after free
 * @param site the allocation site, innermost frame first; empty when it was not recorded
 * @param freedAt for a write after free, where the block was freed, innermost frame first; empty for other damage,
 *        or when it was not recorded (the block's site was not, or its free was not seen)
 */
public record HeapDamage(long address, long size, Kind kind, long offset, List<StackTraceElement> site,
        List<StackTraceElement> freedAt) {
    /** The kinds of damage a checked heap detects. */
    public enum Kind {
        /** Bytes past the end of the block were written (buffer overflow). */
        OVERFLOW,
        /** Bytes before the block, its front red zone, were written (buffer underflow). */
        UNDERFLOW,
        /** A freed block, held in quarantine, was written after it was freed. */
        WRITE_AFTER_FREE
    }

    /** Copies the sites. */
    public HeapDamage {
        site = List.copyOf(site);
        freedAt = List.copyOf(freedAt);
    }

    /**
     * Damage whose free site is not known.
     *
     * @param address the block's address, as {@code malloc} returned it
     * @param size the block's size, as requested
     * @param kind what kind of damage
     * @param offset where the first damaged byte is, relative to {@code address}
     * @param site the allocation site, innermost frame first; empty when it was not recorded
     */
    public HeapDamage(long address, long size, Kind kind, long offset, List<StackTraceElement> site) {
        this(address, size, kind, offset, site, List.of());
    }

    /**
     * {@return the damage in words, as a {@link HeapCorruptionException}'s message and {@code HeapMXBean.verify()} give
     * it: the block, its size and what was overwritten, then the allocation site and, for a write after free, where the
     * block was freed, a frame a line}
     */
    @Override
    public String toString() {
        String what = switch (kind) {
            // Both counted from the block's edge, so that p[size] reads 1 past the end as p[-1] reads 1 before it
            case OVERFLOW -> "overflow: the red zone " + (offset - size + 1) + " byte(s) past the end overwritten";
            case UNDERFLOW -> "underflow: the red zone " + (-offset) + " byte(s) before the block overwritten";
            case WRITE_AFTER_FREE -> "write after free: byte " + offset + " of the freed block overwritten";
        };
        StringBuilder sb = new StringBuilder("block 0x").append(Long.toHexString(address)).append(" (").append(size)
                .append(" bytes): ").append(what);
        if (site.isEmpty()) {
            sb.append("; allocation site not recorded (Heap.builder().trackSites(1) records every site)");
        } else {
            sb.append("; allocated");
            for (StackTraceElement f : site) sb.append("\n    at ").append(f);
        }
        if (!freedAt.isEmpty()) {
            sb.append("\n  freed");
            for (StackTraceElement f : freedAt) sb.append("\n    at ").append(f);
        }
        return sb.toString();
    }
}
