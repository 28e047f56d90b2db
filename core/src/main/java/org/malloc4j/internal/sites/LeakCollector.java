package org.malloc4j.internal.sites;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.malloc4j.LeakReport;
import org.malloc4j.internal.arena.HeapArena;

/**
 * Groups the sampled live blocks by site into a {@link LeakReport}, and the arenas not closed by arena: their blocks
 * (an arena's chunks in FAST mode) are the arenas', reported as their segments, never as the program's blocks.
 */
public final class LeakCollector {
    private LeakCollector() {}

    /**
     * @param liveBlocks the live blocks the heap counts, the arenas' blocks among them
     * @param liveBytes their bytes, as the heap counts them
     * @param programBlock maps a record to its block as the program holds it, {address, size}, read once (in CHECKED
     *        mode the address past the red zone, which a block freed meanwhile no longer shows), or to null to leave
     *        the record out
     * @param arenas what each arena not closed holds, its blocks by the addresses {@code programBlock} gives
     */
    public static LeakReport collect(String heap, long liveBlocks, long liveBytes, Collection<SiteRecord> records,
            Function<SiteRecord, long[]> programBlock, List<HeapArena.Holding> arenas) {
        Map<Long, Integer> arenaOf = new HashMap<>(); // a held block to its arena's index
        long segments = 0, segmentBytes = 0;
        for (int i = 0; i < arenas.size(); i++) {
            HeapArena.Holding h = arenas.get(i);
            long[] held = h.blocks();
            for (long b : held) arenaOf.putIfAbsent(b, i);
            liveBlocks -= held.length;
            liveBytes -= h.heldBytes();
            segments += h.segments();
            segmentBytes += h.segmentBytes();
        }
        SiteRecord[] arenaSites = new SiteRecord[arenas.size()]; // an arena's first recorded block's
        Map<Site, Group> groups = new HashMap<>();
        long blocks = 0, bytes = 0;
        for (SiteRecord r : records) {
            long[] block = programBlock.apply(r);
            if (block == null) continue;
            Integer arena = arenaOf.get(block[0]);
            if (arena != null) {
                SiteRecord first = arenaSites[arena];
                if (first == null || r.sampledAt - first.sampledAt < 0) arenaSites[arena] = r;
                continue;
            }
            long size = block[1];
            Group g = groups.computeIfAbsent(r.site(), s -> new Group());
            g.blocks++;
            g.bytes += size;
            // The sample stands for weight() bytes of blocks of its sampled size; a block resized since stands for
            // as many blocks of its size now.
            g.estimated += r.weight() * size / Math.max(r.sampledSize(), 1);
            g.estimatedBlocks += r.weight() / Math.max(r.sampledSize(), 1); // one over the chance it was sampled
            if (g.threads.size() < 4) g.threads.add(r.thread);
            if (g.addresses.size() < 8) g.addresses.add(block[0]);
            blocks++;
            bytes += size;
        }
        List<LeakReport.UnclosedArena> unclosed = new ArrayList<>();
        for (int i = 0; i < arenas.size(); i++) {
            HeapArena.Holding h = arenas.get(i);
            List<StackTraceElement> site = arenaSites[i] == null ? List.of() : arenaSites[i].site().frames();
            unclosed.add(new LeakReport.UnclosedArena(h.arena(), site, h.segments(), h.segmentBytes(), h.heldBytes()));
        }
        unclosed.sort(Comparator.comparingLong(LeakReport.UnclosedArena::heldBytes).reversed());
        List<LeakReport.Entry> entries = new ArrayList<>();
        for (Map.Entry<Site, Group> e : groups.entrySet()) {
            Group g = e.getValue();
            entries.add(new LeakReport.Entry(e.getKey().frames(), g.blocks, g.bytes, Math.round(g.estimated),
                    Math.round(g.estimatedBlocks), List.copyOf(g.threads), g.addresses));
        }
        entries.sort(Comparator.comparingLong(LeakReport.Entry::estimatedBytes).reversed());
        // Racy figures (an arena taking a block after the heap was counted) never go below 0
        liveBlocks = Math.max(0, liveBlocks);
        liveBytes = Math.max(0, liveBytes);
        return new LeakReport(heap, liveBlocks + segments, liveBytes + segmentBytes, entries,
                Math.max(0, liveBlocks - blocks), Math.max(0, liveBytes - bytes), unclosed);
    }

    private static final class Group {
        long blocks, bytes;
        double estimated, estimatedBlocks;
        final LinkedHashSet<String> threads = new LinkedHashSet<>();
        final List<Long> addresses = new ArrayList<>();
    }
}
