package org.malloc4j.cli.replay;

import java.io.PrintWriter;
import java.util.List;

/**
 * One JSON object a line per trace, for scripts:
 * {@code {"trace":"ramp","allocator":"malloc4j","ops":250000,"nsPerOp":41.3,"peakLiveBytes":...,
 * "tracePeakLiveBytes":...,"peakCommittedBytes":...,"utilization":0.91,"externalFragmentation":0.2,
 * "peakRssBytes":...,"errors":0}}. A figure the allocator cannot give is {@code null}. Written by hand (no JSON
 * library), with strings escaped as RFC 8259 requires.
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
        number(sb, "utilization", r.utilization()).append(',');
        number(sb, "externalFragmentation", r.externalFragmentation()).append(',');
        bytes(sb, "peakRssBytes", r.peakRssBytes()).append(',');
        number(sb, "errors", r.errors());
        out.println(sb.append('}'));
        out.flush();
    }

    @Override
    public void end() {}

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
