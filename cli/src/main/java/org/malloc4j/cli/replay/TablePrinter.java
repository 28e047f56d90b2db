package org.malloc4j.cli.replay;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * The readable report: a title line, a header, then one row per trace as soon as it is replayed, and a legend.
 * Columns: trace, ops, ns/op, peak live, peak committed, peak footprint (committed and bookkeeping), utilization,
 * external fragmentation, peak RSS, the first run's peak RSS, errors.
 * With {@code --leaks}, each trace's {@link LeakReport} follows the legend (so that the table stays whole): a
 * line of totals, then a line per size group, or one line saying that nothing was left live.
 */
public final class TablePrinter implements ResultPrinter {
    private static final String[] HEAD = {"ops", "ns/op", "peak live", "peak committed", "footprint",
        "utilization", "ext. frag", "peak RSS", "1st run RSS", "errors"};
    private static final int[] WIDTH = {11, 8, 11, 15, 11, 12, 10, 11, 11, 7};

    private final PrintWriter out;
    private int nameWidth;
    private final List<ReplayResult> withLeaks = new ArrayList<>();

    /** @param out where the table goes */
    public TablePrinter(PrintWriter out) {
        this.out = out;
    }

    @Override
    public void begin(String allocator, List<String> traceNames) {
        nameWidth = Math.max(5, traceNames.stream().mapToInt(String::length).max().orElse(5));
        out.println("malloc4j replay: allocator " + allocator + ", " + traceNames.size() + " trace"
                + (traceNames.size() == 1 ? "" : "s"));
        StringBuilder sb = new StringBuilder(pad("trace", nameWidth, false));
        for (int c = 0; c < HEAD.length; c++) sb.append("  ").append(pad(HEAD[c], WIDTH[c], true));
        out.println(sb);
        out.println("-".repeat(sb.length()));
        out.flush();
    }

    @Override
    public void result(ReplayResult r) {
        String[] cells = {
            Units.count(r.ops()),
            r.ops() == 0 ? "n/a" : Units.nanos(r.nsPerOp()),
            Units.bytes(r.peakLiveBytes()),
            Units.bytes(r.peakCommittedBytes()),
            Units.bytes(r.peakFootprintBytes()),
            Units.percent(r.utilization()),
            Units.percent(r.externalFragmentation()),
            Units.bytes(r.peakRssBytes()),
            Units.bytes(r.firstRunRssBytes()),
            Long.toString(r.errors())
        };
        StringBuilder sb = new StringBuilder(pad(r.trace(), nameWidth, false));
        for (int c = 0; c < cells.length; c++) sb.append("  ").append(pad(cells[c], WIDTH[c], true));
        out.println(sb);
        out.flush();
        if (r.leaks() != null) withLeaks.add(r);
    }

    @Override
    public void incomplete(String notice) {
        out.println();
        out.println(notice);
    }

    @Override
    public void end() {
        out.println();
        out.println("ns/op: best timed pass / ops (allocator calls and a write of each block's first and last 8 "
                + "bytes).");
        out.println("footprint: peak of committed bytes and malloc4j's bookkeeping on the Java heap together (slabs'"
                + " bitmaps and");
        out.println("  requested sizes), which a native allocator keeps in the memory it maps.");
        out.println("utilization: peak live / peak committed bytes; ext. frag: 1 - largest free block / free "
                + "bytes, at the end.");
        out.println("peak RSS: rise of the process's resident set over the checked pass, which writes every "
                + "byte of every block, of the");
        out.println("  trace's measured run; 1st run RSS: the same over malloc4j's rehearsal of the trace, a run"
                + " before it on a heap of its");
        out.println("  own, whose rise also holds the JIT compilers' work on the heap code the trace is first to"
                + " reach (n/a: a native");
        out.println("  allocator, whose code needs no compiling and whose one run is measured, or --no-rehearsal).");
        for (ReplayResult r : withLeaks) leaks(r.trace(), r.leaks());
        out.flush();
    }

    /** Writes one trace's leak report. */
    private void leaks(String trace, LeakReport l) {
        out.println();
        if (l.none()) {
            out.println("leaks in " + trace + ": none, every block is freed by the end of the trace"
                    + (l.heapLiveBlocks() > 0 ? " (but malloc4j counts " + Units.count(l.heapLiveBlocks())
                            + " live blocks)" : ""));
            return;
        }
        out.println("leaks in " + trace + ": " + Units.count(l.blocks()) + " block" + (l.blocks() == 1 ? "" : "s")
                + ", " + Units.bytes(l.bytes()) + (l.bytes() < 1024 ? "" : " (" + Units.count(l.bytes()) + " B)")
                + " live at the end of the trace"
                + (l.heapLiveBlocks() >= 0 ? " (malloc4j counts " + Units.count(l.heapLiveBlocks()) + ")" : ""));
        out.println("  " + pad("size", 18, false) + "  " + pad("blocks", 11, true) + "  " + pad("bytes", 10, true)
                + "  earliest allocated (id at the op that allocated it: size now)");
        for (LeakReport.Group g : l.groups()) {
            StringBuilder sb = new StringBuilder("  ").append(pad(g.label(), 18, false)).append("  ")
                    .append(pad(Units.count(g.blocks()), 11, true)).append("  ")
                    .append(pad(Units.bytes(g.bytes()), 10, true)).append("  ");
            for (int e = 0; e < g.examples().size(); e++) {
                if (e > 0) sb.append("; ");
                sb.append(g.examples().get(e).describe());
            }
            if (g.blocks() > g.examples().size()) sb.append("; ...");
            out.println(sb);
        }
        if (l.moreGroups() > 0) {
            out.println("  ... " + l.moreGroups() + " more group" + (l.moreGroups() == 1 ? "" : "s") + ": "
                    + Units.count(l.moreBlocks()) + " blocks, " + Units.bytes(l.moreBytes()));
        }
    }

    private static String pad(String s, int width, boolean right) {
        if (s.length() >= width) return s;
        String fill = " ".repeat(width - s.length());
        return right ? fill + s : s + fill;
    }
}
