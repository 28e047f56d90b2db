package org.malloc4j.cli.report;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.malloc4j.HeapSnapshot;

/**
 * A self-contained HTML page (inline CSS, inline SVG, no script, no network) showing a heap: a map of its used
 * address range at peak and at the end, a timeline of live/committed/retained/resident bytes, a histogram of free-extent
 * sizes and a per-size-class table. Pure SVG, so nothing needs to run in the browser.
 */
public final class HtmlReport {
    /**
     * At most this many map cells per snapshot: up to it each run has a cell or more; beyond it runs are merged into
     * equal address slices.
     */
    public static final int MAX_CELLS = 4000;

    /** One timeline sample. */
    public record Sample(long op, long live, long committed, long retained, long resident) {}

    private final String title;
    private final Map<String, List<Sample>> series = new LinkedHashMap<>();
    private final List<String> sections = new ArrayList<>();
    private final List<String> notices = new ArrayList<>();

    public HtmlReport(String title) {
        this.title = title;
    }

    /** Adds a timeline sample. */
    public void sample(long op, long live, long committed, long retained, long resident) {
        sample("", op, live, committed, retained, resident);
    }

    /**
     * @return a timeline name for a trace called {@code name} that no earlier trace of this page has: the name itself,
     *         or with " (2)", " (3)"... after it (two files of one name in one replay)
     */
    public String timelineName(String name) {
        String unique = name;
        for (int k = 2; series.containsKey(unique); k++) unique = name + " (" + k + ")";
        series.put(unique, new ArrayList<>());
        return unique;
    }

    /** Adds a timeline sample to the timeline named {@code name} (one timeline per trace). */
    public void sample(String name, long op, long live, long committed, long retained, long resident) {
        series.computeIfAbsent(name, k -> new ArrayList<>()).add(new Sample(op, live, committed, retained, resident));
    }

    /** Adds a section drawing {@code snap}: map, free-extent histogram and class table. */
    public void snapshot(String heading, HeapSnapshot snap) {
        StringBuilder b = new StringBuilder();
        b.append("<section><h2>").append(esc(heading)).append("</h2>\n");
        b.append(map(snap));
        b.append(histogram(snap));
        b.append(classTable(snap));
        b.append("</section>\n");
        sections.add(b.toString());
    }

    /** Adds a line shown at the top of the page, under its title: what a reader must know before the rest. */
    public void notice(String text) {
        notices.add("<p class=\"notice\"><strong>" + esc(text) + "</strong></p>\n");
    }

    /** Adds a free-form preformatted text section. */
    public void text(String heading, String text) {
        sections.add("<section><h2>" + esc(heading) + "</h2><pre>" + esc(text) + "</pre></section>\n");
    }

    /** @return the page */
    public String render() {
        StringBuilder b = new StringBuilder(64 * 1024);
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
                .append(esc(title)).append("</title>\n<style>")
                .append("body{font-family:sans-serif;margin:1em;color:#222}svg{display:block;border:1px solid #ccc;margin:.5em 0}")
                .append("table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}")
                .append(".legend span{display:inline-block;padding:2px 6px;margin-right:6px;color:#fff}")
                .append("</style></head><body>\n<h1>").append(esc(title)).append("</h1>\n")
                .append(String.join("", notices))
                .append("<div class=\"legend\"><span style=\"background:#1f5fbf\">slab (dark = full)</span>")
                .append("<span style=\"background:#8a2be2\">block</span><span style=\"background:#e07020\">free, dirty</span>")
                .append("<span style=\"background:#9a9a9a\">free, clean</span></div>\n");
        for (Map.Entry<String, List<Sample>> e : series.entrySet()) {
            b.append(timeline(e.getKey(), e.getValue()));
        }
        for (String s : sections) {
            b.append(s);
        }
        b.append("</body></html>\n");
        return b.toString();
    }

    /** Writes the page to {@code file}, whole or not at all ({@link ReportFile#replace}). */
    public void write(Path file) throws IOException {
        String page = render();
        ReportFile.replace(file, out -> out.write(page));
    }

    private static String timeline(String name, List<Sample> samples) {
        StringBuilder b = new StringBuilder("<section><h2>Timeline " + esc(name) + "</h2>\n");
        int w = 1200, h = 300;
        b.append("<svg class=\"timeline\" width=\"").append(w).append("\" height=\"").append(h)
                .append("\" viewBox=\"0 0 ").append(w).append(' ').append(h).append("\">\n");
        if (!samples.isEmpty()) {
            long maxOp = Math.max(1, samples.getLast().op());
            long max = 0;
            for (Sample s : samples) {
                max = Math.max(max, Math.max(Math.max(s.live(), s.resident()), Math.max(s.committed(), s.retained())));
            }
            long maxY = Math.max(1, max); // the scale's, so that a timeline of zeros is drawn at the bottom
            String[] colors = {"#1f5fbf", "#2a9d3a", "#e07020", "#8a2be2"};
            String[] names = {"live", "committed", "retained", "resident"};
            for (int k = 0; k < 4; k++) {
                b.append("<polyline class=\"").append(names[k]).append("\" fill=\"none\" stroke=\"")
                        .append(colors[k]).append("\" stroke-width=\"1.5\" points=\"");
                for (Sample s : samples) {
                    long v = switch (k) {
                        case 0 -> s.live();
                        case 1 -> s.committed();
                        case 2 -> s.retained();
                        default -> s.resident();
                    };
                    double x = 5 + (w - 10) * (double) s.op() / maxOp;
                    double y = h - 20 - (h - 30) * (double) v / maxY;
                    b.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
                }
                b.append("\"/>\n<text x=\"").append(10 + 110 * k).append("\" y=\"").append(h - 4)
                        .append("\" fill=\"").append(colors[k]).append("\">").append(names[k]).append("</text>\n");
            }
            b.append("<text x=\"").append(w - 220).append("\" y=\"14\">max ").append(human(max))
                    .append(", ").append(maxOp).append(" ops</text>\n");
        }
        b.append("</svg></section>\n");
        return b.toString();
    }

    private static String map(HeapSnapshot snap) {
        long used = 0;
        for (HeapSnapshot.Run r : snap.runs()) {
            used = Math.max(used, r.offset() + r.bytes());
        }
        int cols = 100, cell = 12;
        List<HeapSnapshot.Run> runs = snap.runs();
        if (runs.size() <= MAX_CELLS) return mapByRun(snap, used, cols, cell);
        int cells = MAX_CELLS;
        double perCell = used == 0 ? 1 : (double) used / cells;
        int rows = (cells + cols - 1) / cols;
        StringBuilder b = new StringBuilder();
        b.append("<p>Used range ").append(human(used)).append(" of ").append(human(snap.reservedBytes()))
                .append(" reserved, ").append(runs.size()).append(" runs, each cell ").append(human((long) perCell))
                .append(" of address space</p>\n");
        b.append("<svg class=\"heapmap\" width=\"").append(cols * cell).append("\" height=\"").append(rows * cell)
                .append("\">\n");
        // each cell: dominant run by bytes within its address slice
        int ri = 0;
        for (int c = 0; c < cells; c++) {
            double lo = c * perCell, hi = (c + 1) * perCell;
            HeapSnapshot.Run best = null;
            long bestBytes = -1;
            while (ri < runs.size() && runs.get(ri).offset() + runs.get(ri).bytes() <= lo) {
                ri++;
            }
            for (int j = ri; j < runs.size() && runs.get(j).offset() < hi; j++) {
                HeapSnapshot.Run r = runs.get(j);
                long ov = (long) (Math.min(hi, r.offset() + r.bytes()) - Math.max(lo, r.offset()));
                if (ov > bestBytes) {
                    bestBytes = ov;
                    best = r;
                }
            }
            if (best == null) {
                continue;
            }
            cell(b, c, cols, cell, best);
        }
        b.append("</svg>\n");
        return b.toString();
    }

    /**
     * The map of a heap of at most {@link #MAX_CELLS} runs: each run gets one cell, and the cells left over go to the
     * runs in proportion to their bytes, so that a free extent of a page next to a 64 MiB block is still seen.
     */
    private static String mapByRun(HeapSnapshot snap, long used, int cols, int cell) {
        List<HeapSnapshot.Run> runs = snap.runs();
        int budget = Math.min(MAX_CELLS, Math.max(1000, 4 * runs.size()));
        long total = 0;
        for (HeapSnapshot.Run r : runs) total += r.bytes();
        int extra = budget - runs.size();
        int[] share = new int[runs.size()];
        int cells = 0;
        for (int j = 0; j < runs.size(); j++) {
            share[j] = 1 + (total == 0 ? 0 : (int) (extra * (double) runs.get(j).bytes() / total));
            cells += share[j];
        }
        int rows = Math.max(1, (cells + cols - 1) / cols);
        StringBuilder b = new StringBuilder();
        b.append("<p>Used range ").append(human(used)).append(" of ").append(human(snap.reservedBytes()))
                .append(" reserved, ").append(runs.size()).append(" runs, each run at least one cell, the other cells")
                .append(" in proportion to size (").append(human(extra == 0 ? 0 : total / extra))
                .append(" a cell)</p>\n");
        b.append("<svg class=\"heapmap\" width=\"").append(cols * cell).append("\" height=\"").append(rows * cell)
                .append("\">\n");
        int c = 0;
        for (int j = 0; j < runs.size(); j++) {
            for (int k = 0; k < share[j]; k++) cell(b, c++, cols, cell, runs.get(j));
        }
        b.append("</svg>\n");
        return b.toString();
    }

    private static void cell(StringBuilder b, int c, int cols, int cell, HeapSnapshot.Run run) {
        b.append("<rect x=\"").append((c % cols) * cell).append("\" y=\"").append((c / cols) * cell)
                .append("\" width=\"").append(cell - 1).append("\" height=\"").append(cell - 1)
                .append("\" fill=\"").append(color(run)).append("\"><title>").append(run.kind())
                .append(" @").append(run.offset()).append(' ').append(human(run.bytes()));
        if (run.kind() == HeapSnapshot.Kind.SLAB) {
            b.append(" class ").append(run.blockSize()).append(" B, ").append(run.liveBlocks()).append('/')
                    .append(run.blocks());
        }
        b.append("</title></rect>\n");
    }

    private static String color(HeapSnapshot.Run r) {
        return switch (r.kind()) {
            case SLAB -> {
                int light = (int) (80 - 50 * r.occupancy());
                int hue = 200 + (Long.numberOfTrailingZeros(Long.highestOneBit(Math.max(1, r.blockSize()))) * 7) % 40;
                yield "hsl(" + hue + ",70%," + light + "%)";
            }
            case BLOCK -> "#8a2be2";
            case FREE_DIRTY -> "#e07020";
            case FREE_CLEAN -> "#9a9a9a";
        };
    }

    /**
     * The free extents by power-of-two size, in two stacked parts a bar: what the heap still holds (free runs waiting
     * for their decay time, free slots of slabs), and what it has given back to the OS (clean runs below the heap's
     * high-water mark, free address space). The clean runs counted as free extents like the others once, so that a
     * trimmed heap's histogram looked as fragmented as before its trim.
     */
    private static String histogram(HeapSnapshot snap) {
        long[] heldCount = new long[64], heldBytes = new long[64], backCount = new long[64], backBytes = new long[64];
        for (HeapSnapshot.Run r : snap.runs()) {
            int k = 63 - Long.numberOfLeadingZeros(Math.max(1, r.bytes()));
            if (r.kind() == HeapSnapshot.Kind.FREE_DIRTY) {
                heldCount[k]++;
                heldBytes[k] += r.bytes();
            } else if (r.kind() == HeapSnapshot.Kind.FREE_CLEAN) {
                backCount[k]++;
                backBytes[k] += r.bytes();
            }
        }
        for (HeapSnapshot.SizeClassUsage c : snap.classes()) {
            int k = 31 - Integer.numberOfLeadingZeros(Math.max(1, c.blockSize()));
            heldCount[k] += c.freeBlocks();
            heldBytes[k] += c.freeBlocks() * c.blockSize();
        }
        long maxBytes = 1;
        int lo = 64, hi = -1;
        for (int k = 0; k < 64; k++) {
            if (heldCount[k] + backCount[k] > 0) {
                lo = Math.min(lo, k);
                hi = Math.max(hi, k);
                maxBytes = Math.max(maxBytes, heldBytes[k] + backBytes[k]);
            }
        }
        StringBuilder b = new StringBuilder("<h3>Free extents by size: held (free runs and free slab slots, orange)"
                + " and given back to the OS (grey)</h3>\n");
        int barW = 40, h = 160;
        int n = hi < lo ? 0 : hi - lo + 1;
        b.append("<svg class=\"histogram\" width=\"").append(Math.max(200, n * barW + 10)).append("\" height=\"")
                .append(h + 30).append("\">\n");
        for (int k = lo; k <= hi; k++) {
            int x = 5 + (k - lo) * barW;
            int held = (int) Math.round((double) h * heldBytes[k] / maxBytes);
            int back = (int) Math.round((double) h * (heldBytes[k] + backBytes[k]) / maxBytes) - held;
            String title = "<title>" + heldCount[k] + " extents held, " + human(heldBytes[k]) + "; " + backCount[k]
                    + " given back, " + human(backBytes[k]) + "</title>";
            bar(b, x, h - held, barW - 4, held, "#e07020", title);
            bar(b, x, h - held - back, barW - 4, back, "#9a9a9a", title);
            b.append("<text x=\"").append(x).append("\" y=\"").append(h + 15).append("\" font-size=\"9\">")
                    .append(human(1L << k)).append("</text>\n");
        }
        b.append("</svg>\n");
        return b.toString();
    }

    private static void bar(StringBuilder b, int x, int y, int w, int height, String fill, String title) {
        if (height <= 0) return;
        b.append("<rect x=\"").append(x).append("\" y=\"").append(y).append("\" width=\"").append(w)
                .append("\" height=\"").append(height).append("\" fill=\"").append(fill).append("\">")
                .append(title).append("</rect>");
    }

    private static String classTable(HeapSnapshot snap) {
        StringBuilder b = new StringBuilder("<h3>Size classes</h3>\n<table class=\"classes\"><tr><th>block size</th>"
                + "<th>slabs</th><th>slab bytes</th><th>live blocks</th><th>free blocks</th><th>requested</th>"
                + "<th>waste</th></tr>\n");
        for (HeapSnapshot.SizeClassUsage c : snap.classes()) {
            b.append("<tr><td>").append(c.blockSize()).append("</td><td>").append(c.slabs()).append("</td><td>")
                    .append(human(c.slabBytes())).append("</td><td>").append(c.liveBlocks()).append("</td><td>")
                    .append(c.freeBlocks()).append("</td><td>").append(human(c.requestedBytes())).append("</td><td>")
                    .append(human(c.wasteBytes())).append("</td></tr>\n");
        }
        // The blocks with pages of their own (above the classes, or aligned past a page): one row, their waste the
        // page rounding
        long blocks = 0, bytes = 0, requested = 0;
        for (HeapSnapshot.Run r : snap.runs()) {
            if (r.kind() != HeapSnapshot.Kind.BLOCK) continue;
            blocks++;
            bytes += r.bytes();
            requested += r.blockSize();
        }
        if (blocks > 0) {
            b.append("<tr class=\"pageruns\"><td>page runs</td><td>").append(blocks).append("</td><td>")
                    .append(human(bytes)).append("</td><td>").append(blocks).append("</td><td>0</td><td>")
                    .append(human(requested)).append("</td><td>").append(human(bytes - requested))
                    .append("</td></tr>\n");
        }
        b.append("</table>\n");
        return b.toString();
    }

    /** @return {@code v} bytes in B, KiB, MiB or GiB; what would round to 1024.0 of a unit is in the next one */
    public static String human(long v) {
        if (v < 1024) {
            return v + " B";
        }
        if (v < 1023.95 * 1024) {
            return String.format(Locale.ROOT, "%.1f KiB", v / 1024.0);
        }
        if (v < 1023.95 * 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f MiB", v / (1024.0 * 1024));
        }
        return String.format(Locale.ROOT, "%.2f GiB", v / (1024.0 * 1024 * 1024));
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
