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

/** Groups the sampled live blocks by site into a {@link LeakReport}. */
public final class LeakCollector {
    private LeakCollector() {}

    /**
     * @param programBlock maps a record to its block as the program holds it, {address, size}, read once (in CHECKED
     *        mode the address past the red zone, which a block freed meanwhile no longer shows), or to null to leave
     *        the record out
     */
    public static LeakReport collect(String heap, long liveBlocks, long liveBytes, Collection<SiteRecord> records,
            Function<SiteRecord, long[]> programBlock) {
        Map<Site, Group> groups = new HashMap<>();
        long blocks = 0, bytes = 0;
        for (SiteRecord r : records) {
            long[] block = programBlock.apply(r);
            if (block == null) continue;
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
        List<LeakReport.Entry> entries = new ArrayList<>();
        for (Map.Entry<Site, Group> e : groups.entrySet()) {
            Group g = e.getValue();
            entries.add(new LeakReport.Entry(e.getKey().frames(), g.blocks, g.bytes, Math.round(g.estimated),
                    Math.round(g.estimatedBlocks), List.copyOf(g.threads), g.addresses));
        }
        entries.sort(Comparator.comparingLong(LeakReport.Entry::estimatedBytes).reversed());
        return new LeakReport(heap, liveBlocks, liveBytes, entries, Math.max(0, liveBlocks - blocks),
                Math.max(0, liveBytes - bytes));
    }

    private static final class Group {
        long blocks, bytes;
        double estimated, estimatedBlocks;
        final LinkedHashSet<String> threads = new LinkedHashSet<>();
        final List<Long> addresses = new ArrayList<>();
    }
}
