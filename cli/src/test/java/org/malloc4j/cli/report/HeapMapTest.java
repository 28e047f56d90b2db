package org.malloc4j.cli.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.malloc4j.HeapSnapshot;
import org.malloc4j.HeapSnapshot.Kind;
import org.malloc4j.HeapSnapshot.Run;

class HeapMapTest {
    private static final long KIB = 1024, MIB = 1024 * KIB;

    /**
     * Fewer runs than {@link HtmlReport#MAX_CELLS}, one of them far larger than the others (sort's 64 MiB buffer):
     * each run, the small free extents among them included, still gets a cell of its own in the map.
     */
    @Test
    void everyRunHasACellWhenRunsAreFewerThanTheCells() {
        List<Run> runs = List.of(
                new Run(0, 4 * KIB, Kind.SLAB, 16, 256, 200),
                new Run(4 * KIB, 8 * KIB, Kind.FREE_DIRTY, 0, 0, 0),
                new Run(12 * KIB, 4 * KIB, Kind.SLAB, 64, 64, 1),
                new Run(16 * KIB, 64 * MIB, Kind.BLOCK, 64 * MIB, 1, 1),
                new Run(16 * KIB + 64 * MIB, 12 * KIB, Kind.FREE_CLEAN, 0, 0, 0),
                new Run(28 * KIB + 64 * MIB, 4 * KIB, Kind.SLAB, 32, 128, 128));
        HeapSnapshot snap = new HeapSnapshot(0x7000_0000_0000L, 64L << 30, 4096, runs, List.of());
        HtmlReport report = new HtmlReport("map");
        report.snapshot("sort-like", snap);
        String html = report.render();
        for (Run r : runs) {
            assertThat(html).as("a cell for %s", r).contains("<title>" + r.kind() + " @" + r.offset() + " ");
        }
        assertThat(html).contains("fill=\"#e07020\"", "fill=\"#9a9a9a\"");
    }

    /**
     * Runs of one size, alternating (every other 64 KiB block freed), then one large block: the map keeps the
     * alternation, each run's cells of one colour, instead of slicing the range into as many equal cells as there
     * are runs (a cell then straddles two runs and shows the one it holds more of: pairs of one colour).
     */
    @Test
    void alternatingRunsStayAlternating() {
        List<Run> runs = new java.util.ArrayList<>();
        for (int i = 0; i < 100; i++) {
            runs.add(i % 2 == 0 ? new Run(i * 64 * KIB, 64 * KIB, Kind.SLAB, 65536, 1, 1)
                    : new Run(i * 64 * KIB, 64 * KIB, Kind.FREE_DIRTY, 0, 0, 0));
        }
        runs.add(new Run(100 * 64 * KIB, 8 * MIB, Kind.BLOCK, 8 * MIB, 1, 1));
        HtmlReport report = new HtmlReport("map");
        report.snapshot("demo-like", new HeapSnapshot(0x7000_0000_0000L, 64L << 30, 4096, runs, List.of()));
        String html = report.render();
        for (Run r : runs) {
            assertThat(html).as("a cell for %s", r).contains("<title>" + r.kind() + " @" + r.offset() + " ");
        }
    }
}
