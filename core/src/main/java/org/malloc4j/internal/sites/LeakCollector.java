package org.malloc4j.internal.sites;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.LongUnaryOperator;
import org.malloc4j.LeakReport;

/** Groups the sampled live blocks by site into a {@link LeakReport}. */
public final class LeakCollector {
    private LeakCollector() {}

    /**
     * @param toProgram maps an engine address to the address the program holds (identity in FAST mode)
     * @param programSize maps an engine address to the program's size of the block, or -1 to keep the record's
     */
    public static LeakReport collect(String heap, long liveBlocks, long liveBytes, Collection<SiteRecord> records,
            LongUnaryOperator toProgram, LongUnaryOperator programSize) {
        Map<Site, Group> groups = new HashMap<>();
        long blocks = 0, bytes = 0;
        for (SiteRecord r : records) {
            long size = programSize.applyAsLong(r.address);
            if (size < 0) size = r.size;
            Group g = groups.computeIfAbsent(r.site(), s -> new Group());
            g.blocks++;
            g.bytes += size;
            // The sample stands for weight() bytes of blocks of its sampled size; a block resized since stands for
            // as many blocks of its size now.
            g.estimated += r.weight() * size / Math.max(r.sampledSize(), 1);
            g.estimatedBlocks += r.weight() / Math.max(r.sampledSize(), 1); // one over the chance it was sampled
            if (g.threads.size() < 4) g.threads.add(r.thread);
            if (g.addresses.size() < 8) g.addresses.add(toProgram.applyAsLong(r.address));
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
