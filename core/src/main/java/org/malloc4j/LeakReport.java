package org.malloc4j;

import java.util.List;

/**
 * The blocks of a heap still live at one moment, grouped by allocation site, largest first: what
 * {@link Heap#leaks()} returns and what {@link Heap#close()} reports for a heap that still holds blocks.
 *
 * <p>Sites are known for the blocks whose site was recorded ({@link Heap.Builder#trackSites(double)}): all of them
 * at rate 1, a sample by bytes below it, in which case {@link Entry#estimatedBytes()} scales each sample by the
 * inverse of its chance of being sampled. The live blocks without a recorded site are summed in
 * {@link #unattributedBlocks()} and {@link #unattributedBytes()}.
 *
 * @param heap the heap's name
 * @param liveBlocks every live block of the heap
 * @param liveBytes their requested bytes
 * @param entries one per allocation site, by bytes, largest first
 * @param unattributedBlocks live blocks with no recorded site
 * @param unattributedBytes their bytes
 */
public record LeakReport(String heap, long liveBlocks, long liveBytes, List<Entry> entries, long unattributedBlocks,
        long unattributedBytes) {
    /** Copies the entries. */
    public LeakReport {
        entries = List.copyOf(entries);
    }

    /**
     * The live blocks allocated at one site.
     *
     * @param site the frames of the allocating call, innermost first (the first frame outside malloc4j)
     * @param blocks recorded live blocks from this site
     * @param bytes their requested bytes
     * @param estimatedBytes the bytes they stand for, sampling taken into account ({@code bytes} at rate 1)
     * @param estimatedBlocks the blocks they stand for, sampling taken into account ({@code blocks} at rate 1): each
     *        sample counts one over the chance that a block of its size is sampled
     * @param threads names of the allocating threads (at most 4)
     * @param addresses a few of the blocks' addresses (at most 8)
     */
    public record Entry(List<StackTraceElement> site, long blocks, long bytes, long estimatedBytes,
            long estimatedBlocks, List<String> threads, List<Long> addresses) {
        /** Copies the lists. */
        public Entry {
            site = List.copyOf(site);
            threads = List.copyOf(threads);
            addresses = List.copyOf(addresses);
        }
    }

    /** {@return true when the heap held no live block} */
    public boolean isEmpty() {
        return liveBlocks == 0;
    }

    /** {@return the report as text, one paragraph per site} */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        sb.append("heap ").append(heap).append(": ").append(liveBlocks).append(" live block(s), ").append(liveBytes)
                .append(" bytes");
        if (liveBlocks == 0) return sb.append('\n').toString();
        // "none recorded", not "not tracked": with sampling below rate 1, no live block may have been sampled
        sb.append(entries.isEmpty() && unattributedBlocks == liveBlocks
                ? " (no live block has a recorded allocation site: Heap.builder().trackSites(rate) records them, for a"
                        + " sample by bytes below rate 1)\n" : "\n");
        for (Entry e : entries) {
            sb.append("  ").append(e.blocks()).append(" block(s), ").append(e.bytes()).append(" bytes");
            if (e.estimatedBytes() != e.bytes() || e.estimatedBlocks() != e.blocks()) {
                sb.append(" (about ").append(e.estimatedBlocks()).append(" block(s), ").append(e.estimatedBytes())
                        .append(" bytes in all)");
            }
            sb.append(", by thread(s) ").append(String.join(", ", e.threads())).append(", e.g.");
            for (long a : e.addresses()) sb.append(" 0x").append(Long.toHexString(a));
            sb.append('\n');
            if (e.site().isEmpty()) sb.append("    (no frames outside malloc4j)\n");
            for (StackTraceElement f : e.site()) sb.append("    at ").append(f).append('\n');
        }
        if (unattributedBlocks > 0 && !entries.isEmpty()) {
            sb.append("  ").append(unattributedBlocks).append(" block(s), ").append(unattributedBytes)
                    .append(" bytes with no recorded site (sampled out)\n");
        }
        return sb.toString();
    }
}
