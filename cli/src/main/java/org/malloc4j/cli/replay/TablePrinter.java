package org.malloc4j.cli.replay;

import java.io.PrintWriter;
import java.util.List;

/**
 * The readable report: a title line, a header, then one row per trace as soon as it is replayed, and a legend.
 * Columns: trace, ops, ns/op, peak live, peak committed, utilization, external fragmentation, peak RSS, errors.
 */
public final class TablePrinter implements ResultPrinter {
    private static final String[] HEAD = {"ops", "ns/op", "peak live", "peak committed", "utilization",
        "ext. frag", "peak RSS", "errors"};
    private static final int[] WIDTH = {11, 8, 11, 15, 12, 10, 11, 7};

    private final PrintWriter out;
    private int nameWidth;

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
            Units.nanos(r.nsPerOp()),
            Units.bytes(r.peakLiveBytes()),
            Units.bytes(r.peakCommittedBytes()),
            Units.percent(r.utilization()),
            Units.percent(r.externalFragmentation()),
            Units.bytes(r.peakRssBytes()),
            Long.toString(r.errors())
        };
        StringBuilder sb = new StringBuilder(pad(r.trace(), nameWidth, false));
        for (int c = 0; c < cells.length; c++) sb.append("  ").append(pad(cells[c], WIDTH[c], true));
        out.println(sb);
        out.flush();
    }

    @Override
    public void end() {
        out.println();
        out.println("ns/op: best timed pass / ops (allocator calls and a write of each block's first and last 8 "
                + "bytes).");
        out.println("utilization: peak live / peak committed bytes; ext. frag: 1 - largest free block / free "
                + "bytes, at the end.");
        out.println("peak RSS: rise of the process's resident set over the checked pass, which writes every "
                + "byte of every block.");
        out.flush();
    }

    private static String pad(String s, int width, boolean right) {
        if (s.length() >= width) return s;
        String fill = " ".repeat(width - s.length());
        return right ? fill + s : s + fill;
    }
}
