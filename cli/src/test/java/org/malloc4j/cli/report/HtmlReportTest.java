package org.malloc4j.cli.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.malloc4j.Heap;
import org.malloc4j.HeapStats;

class HtmlReportTest {
    @Test
    void writesSelfContainedPageWithMapTimelineHistogramAndClassTable(@TempDir Path dir) throws Exception {
        HtmlReport report = new HtmlReport("test heap");
        try (Heap heap = Heap.create()) {
            List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                blocks.add(heap.malloc(i % 3 == 0 ? 100_000 : 16 + (i % 50) * 8));
                HeapStats s = heap.stats();
                report.sample(i, s.liveBytes(), s.committedBytes(), s.retainedBytes(), s.residentBytes());
            }
            report.snapshot("peak", heap.snapshot());
            for (int i = 0; i < blocks.size(); i += 2) {
                heap.free(blocks.get(i));
            }
            report.snapshot("end", heap.snapshot());
        }
        Path file = dir.resolve("report.html");
        report.write(file);
        String html = Files.readString(file);
        assertThat(html).startsWith("<!DOCTYPE html>").endsWith("</html>\n");
        assertThat(html).contains("<svg class=\"timeline\"", "<polyline class=\"live\"", "<polyline class=\"resident\"", "class=\"heapmap\"",
                "<rect", "class=\"histogram\"", "<table class=\"classes\"", "<td>");
        assertThat(html).doesNotContain("http://", "https://", "<script");
        assertThat(Files.size(file)).isLessThan(2L * 1024 * 1024);
    }

    /**
     * The histogram tells the free runs the heap holds from those it gave back: a trimmed 1 MiB run counted as a free
     * extent like a dirty one, so that a trim left the histogram as it was.
     */
    @Test
    void theHistogramTellsHeldFreeRunsFromGivenBackOnes() {
        HtmlReport report = new HtmlReport("held and given back");
        try (Heap heap = Heap.builder().decay(java.time.Duration.ofHours(1)).build()) {
            long a = heap.malloc(300_000), keep = heap.malloc(300_000), c = heap.malloc(1 << 20), top = heap.malloc(300_000);
            heap.free(c);
            heap.trim(); // c's 256 pages go back to the OS
            heap.free(a); // a's 74 pages stay, dirty
            report.snapshot("now", heap.snapshot());
            heap.free(keep);
            heap.free(top);
        }
        String html = report.render();
        assertThat(html).contains("<title>1 extents held, 296.0 KiB; 0 given back, 0 B</title>",
                "<title>0 extents held, 0 B; 1 given back, 1.0 MiB</title>");
    }

    /** Blocks with pages of their own have a row of the class table: their count, pages and page-rounding waste. */
    @Test
    void theClassTableHasARowForBlocksWithPagesOfTheirOwn() {
        HtmlReport report = new HtmlReport("page runs");
        try (Heap heap = Heap.create()) {
            long a = heap.malloc(300_000), b = heap.malloc(1 << 20), small = heap.malloc(100);
            report.snapshot("now", heap.snapshot());
            heap.free(a);
            heap.free(b);
            heap.free(small);
        }
        String html = report.render();
        // 300,000 bytes take 74 pages (303,104 bytes), 1 MiB 256 pages: 1,347,680 bytes, 3,104 of them waste
        assertThat(html).contains("<tr class=\"pageruns\"><td>page runs</td><td>2</td><td>1.3 MiB</td><td>2</td>"
                + "<td>0</td><td>1.3 MiB</td><td>3.0 KiB</td></tr>");
    }

    /**
     * A figure just under a unit's next one read "1024.0 KiB" or "1024.0 MiB" on the page, where the table (Units)
     * reads "1.0 MiB": what would round to 1024 takes the next unit.
     */
    @Test
    void sizesJustUnderTheNextUnitTakeIt() {
        assertThat(HtmlReport.human(1023)).isEqualTo("1023 B");
        assertThat(HtmlReport.human(1024 * 1024 - 1)).isEqualTo("1.0 MiB");
        assertThat(HtmlReport.human(1024 * 1024 - 60)).isEqualTo("1023.9 KiB");
        assertThat(HtmlReport.human((1L << 30) - 1)).isEqualTo("1.00 GiB");
        assertThat(HtmlReport.human(3L << 30)).isEqualTo("3.00 GiB");
    }

    /** A timeline whose figures are all 0 (every request refused) was labelled "max 1 B", the scale's floor. */
    @Test
    void aTimelineOfZerosSaysItsMaxIsZero() {
        HtmlReport report = new HtmlReport("zeros");
        String name = report.timelineName("refused");
        report.sample(name, 0, 0, 0, 0, 0);
        report.sample(name, 1, 0, 0, 0, 0);
        assertThat(report.render()).contains(">max 0 B, 1 ops</text>").doesNotContain("max 1 B");
    }
}
