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
 * <p><b>Arenas not closed.</b> The live segments of the heap's arenas ({@link Heap#newArena()},
 * {@link Heap#newSharedArena()}) that are still open are reported by arena, in {@link #arenas()}, not in
 * {@link #entries()}: in {@link HeapMode#FAST} mode an arena carves its small segments out of chunks, heap blocks of
 * 4 to 64 KiB that are the arena's, not the program's, and in both modes the leak is the arena left open. The totals
 * count the program's blocks and those segments, each as one block, in both modes alike; so {@link #liveBlocks()} is
 * the same in both modes for the same program, and {@link #liveBytes()} too, but for one difference: in FAST mode a
 * segment carved from a chunk (at most 4096 bytes, aligned to at most 256) counts its size rounded up to its class in
 * the arena, a multiple of 16 bytes up to 1024 (16 for a segment of 0 bytes), of 256 bytes above, and a segment of 0
 * bytes with a block of its own counts 1 byte, where CHECKED mode counts every segment's exact size. The heap's own
 * figures ({@link Heap#stats()}) count the arena's chunks and blocks instead, which {@link UnclosedArena#heldBytes()}
 * gives.
 *
 * @param heap the heap's name
 * @param liveBlocks the program's live blocks: its blocks and the live segments of its arenas not closed
 * @param liveBytes their requested bytes (a segment carved from a chunk by its class, see above)
 * @param entries one per allocation site, by bytes, largest first: the program's blocks, no arena's segments
 * @param unattributedBlocks live blocks with no recorded site, no arena's segments among them
 * @param unattributedBytes their bytes
 * @param arenas the arenas not closed that hold memory of the heap, largest first
 */
public record LeakReport(String heap, long liveBlocks, long liveBytes, List<Entry> entries, long unattributedBlocks,
        long unattributedBytes, List<UnclosedArena> arenas) {
    /** Copies the lists. */
    public LeakReport {
        entries = List.copyOf(entries);
        arenas = List.copyOf(arenas);
    }

    /**
     * A report with no arena left open.
     *
     * @param heap the heap's name
     * @param liveBlocks every live block of the program
     * @param liveBytes their requested bytes
     * @param entries one per allocation site, by bytes, largest first
     * @param unattributedBlocks live blocks with no recorded site
     * @param unattributedBytes their bytes
     */
    public LeakReport(String heap, long liveBlocks, long liveBytes, List<Entry> entries, long unattributedBlocks,
            long unattributedBytes) {
        this(heap, liveBlocks, liveBytes, entries, unattributedBlocks, unattributedBytes, List.of());
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

    /**
     * An arena of the heap that the program has not closed and that holds memory of the heap: its live segments, the
     * heap's blocks behind them, and where it took its first block. Its figures are the arena's own, exact, whatever
     * the sampling rate; only its site depends on the sampling.
     *
     * @param arena the arena, in words (its kind and, for a confined arena, its owner thread)
     * @param site the frames of the call that took the arena's first recorded block from the heap, innermost first:
     *        the {@code allocate} of a segment, of its first segment with every block recorded (at rate 1, in both
     *        modes); empty when none of the blocks it holds was recorded
     * @param segments its live segments: allocated, not freed early (0 when every one was, the arena still holding
     *        its chunks)
     * @param bytes their bytes, as {@link LeakReport#liveBytes()} counts them
     * @param heldBytes the bytes of the heap's blocks the arena holds, as {@link Heap#stats()} counts them: in FAST
     *        mode its chunks and its larger segments' blocks (each with the offset the segment starts at), in CHECKED
     *        mode its segments' blocks
     */
    public record UnclosedArena(String arena, List<StackTraceElement> site, long segments, long bytes,
            long heldBytes) {
        /** Copies the site. */
        public UnclosedArena {
            site = List.copyOf(site);
        }
    }

    /** {@return true when the heap held no live block and no arena not closed held memory of the heap} */
    public boolean isEmpty() {
        return liveBlocks == 0 && arenas.isEmpty();
    }

    /** {@return the report as text, one paragraph per arena not closed, then one per site} */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        sb.append("heap ").append(heap).append(": ").append(liveBlocks).append(" live block(s), ").append(liveBytes)
                .append(" bytes");
        if (isEmpty()) return sb.append('\n').toString();
        if (!arenas.isEmpty()) {
            long segments = arenas.stream().mapToLong(UnclosedArena::segments).sum();
            sb.append(", ").append(segments).append(" of them segment(s) of ").append(arenas.size())
                    .append(" arena(s) not closed");
        }
        // "none recorded", not "not tracked": with sampling below rate 1, no live block may have been sampled
        boolean noSite = entries.isEmpty() && arenas.stream().allMatch(a -> a.site().isEmpty());
        sb.append(noSite ? " (no live block has a recorded allocation site: Heap.builder().trackSites(rate) records"
                + " them, for a sample by bytes below rate 1)\n" : "\n");
        for (UnclosedArena a : arenas) {
            sb.append("  arena not closed, ").append(a.arena()).append(": ").append(a.segments())
                    .append(" live segment(s), ").append(a.bytes()).append(" bytes, holding ").append(a.heldBytes())
                    .append(" bytes of heap blocks");
            if (a.site().isEmpty()) {
                sb.append('\n');
                continue;
            }
            sb.append(", the first allocated\n");
            for (StackTraceElement f : a.site()) sb.append("    at ").append(f).append('\n');
        }
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
        if (unattributedBlocks > 0 && !noSite) {
            sb.append("  ").append(unattributedBlocks).append(" block(s), ").append(unattributedBytes)
                    .append(" bytes with no recorded site (sampled out)\n");
        }
        return sb.toString();
    }
}
