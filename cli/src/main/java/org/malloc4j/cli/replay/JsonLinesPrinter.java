package org.malloc4j.cli.replay;

import java.io.PrintWriter;
import java.util.List;

/**
 * One JSON object a line per trace, for scripts:
 * {@code {"trace":"ramp","allocator":"malloc4j","ops":250000,"nsPerOp":41.3,"peakLiveBytes":...,
 * "tracePeakLiveBytes":...,"peakCommittedBytes":...,"utilization":0.91,"externalFragmentation":0.2,
 * "peakRssBytes":...,"firstRunRssBytes":...,"errors":0}}. A figure the allocator cannot give is {@code null}.
 * Written by hand (no JSON library), with strings escaped as RFC 8259 requires.
 *
 * <p>With {@code --leaks}, a last key {@code "leaks"} holds the blocks the trace leaves live ({@link LeakReport}):
 * {@code {"blocks":6,"bytes":12416,"heapLiveBlocks":6,"groups":[{"label":"(2 KiB, 4 KiB]","minSize":2049,
 * "maxSize":4096,"blocks":2,"bytes":8096,"examples":[{"id":7,"op":8,"line":12,"reallocOp":null,
 * "reallocLine":null,"size":4096},...]},...],"moreGroups":0,"moreBlocks":0,"moreBytes":0}}: groups largest first;
 * {@code op} is 1-based, {@code line} the line in the trace file ({@code null} for a bundled workload),
 * {@code heapLiveBlocks} {@code null} for an allocator other than malloc4j.
 */
public final class JsonLinesPrinter implements ResultPrinter {
    private final PrintWriter out;

    /** @param out where the lines go */
    public JsonLinesPrinter(PrintWriter out) {
        this.out = out;
    }

    @Override
    public void begin(String allocator, List<String> traceNames) {}

    @Override
    public void result(ReplayResult r) {
        StringBuilder sb = new StringBuilder(256).append('{');
        string(sb, "trace", r.trace()).append(',');
        string(sb, "allocator", r.allocator()).append(',');
        number(sb, "ops", r.ops()).append(',');
        number(sb, "nsPerOp", r.nsPerOp()).append(',');
        number(sb, "peakLiveBytes", r.peakLiveBytes()).append(',');
        number(sb, "tracePeakLiveBytes", r.tracePeakLiveBytes()).append(',');
        bytes(sb, "peakCommittedBytes", r.peakCommittedBytes()).append(',');
        bytes(sb, "peakFootprintBytes", r.peakFootprintBytes()).append(',');
        number(sb, "utilization", r.utilization()).append(',');
        number(sb, "externalFragmentation", r.externalFragmentation()).append(',');
        bytes(sb, "peakRssBytes", r.peakRssBytes()).append(',');
        bytes(sb, "firstRunRssBytes", r.firstRunRssBytes()).append(',');
        number(sb, "errors", r.errors());
        if (r.leaks() != null) leaks(sb.append(','), r.leaks());
        out.println(sb.append('}'));
        out.flush();
    }

    @Override
    public void end() {}

    private static void leaks(StringBuilder sb, LeakReport l) {
        quote(sb, "leaks").append(":{");
        number(sb, "blocks", l.blocks()).append(',');
        number(sb, "bytes", l.bytes()).append(',');
        bytes(sb, "heapLiveBlocks", l.heapLiveBlocks()).append(',');
        quote(sb, "groups").append(":[");
        for (int g = 0; g < l.groups().size(); g++) {
            LeakReport.Group group = l.groups().get(g);
            if (g > 0) sb.append(',');
            sb.append('{');
            string(sb, "label", group.label()).append(',');
            number(sb, "minSize", group.minSize()).append(',');
            number(sb, "maxSize", group.maxSize()).append(',');
            number(sb, "blocks", group.blocks()).append(',');
            number(sb, "bytes", group.bytes()).append(',');
            quote(sb, "examples").append(":[");
            for (int e = 0; e < group.examples().size(); e++) {
                LeakReport.Example x = group.examples().get(e);
                if (e > 0) sb.append(',');
                sb.append('{');
                number(sb, "id", x.id()).append(',');
                number(sb, "op", x.op()).append(',');
                bytes(sb, "line", x.line()).append(',');
                bytes(sb, "reallocOp", x.reallocOp()).append(',');
                bytes(sb, "reallocLine", x.reallocLine()).append(',');
                number(sb, "size", x.size()).append('}');
            }
            sb.append("]}");
        }
        sb.append("],");
        number(sb, "moreGroups", l.moreGroups()).append(',');
        number(sb, "moreBlocks", l.moreBlocks()).append(',');
        number(sb, "moreBytes", l.moreBytes()).append('}');
    }

    private static StringBuilder string(StringBuilder sb, String key, String value) {
        return quote(quote(sb, key).append(':'), value);
    }

    private static StringBuilder number(StringBuilder sb, String key, long value) {
        return quote(sb, key).append(':').append(value);
    }

    private static StringBuilder bytes(StringBuilder sb, String key, long value) {
        quote(sb, key).append(':');
        return value < 0 ? sb.append("null") : sb.append(value);
    }

    private static StringBuilder number(StringBuilder sb, String key, double value) {
        quote(sb, key).append(':');
        if (Double.isNaN(value) || Double.isInfinite(value)) return sb.append("null");
        return sb.append(Math.round(value * 1e4) / 1e4);
    }

    /** Appends {@code s} as a JSON string. */
    static StringBuilder quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"');
    }
}
