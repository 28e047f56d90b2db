package org.malloc4j.cli.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.malloc4j.cli.trace.Trace;
import org.malloc4j.cli.trace.TraceBuilder;

/**
 * The issue: "sample the run so that a 10-million-operation trace still yields a page that opens in a second". A page's
 * size must not grow with the trace's length: the timeline keeps a bounded number of points, the page two maps (peak
 * and end) of at most {@link HtmlReport#MAX_CELLS} cells each, whatever the number of operations.
 */
class ReportSamplingTest {
    /** 300,000 operations: a ramp of small blocks, churn with peaks that keep rising a little, then every free. */
    @Test
    void aLongTraceYieldsAPageOfBoundedSize() {
        int ids = 30_000;
        TraceBuilder b = new TraceBuilder("long", ids, 300_000, 0);
        SplittableRandom random = new SplittableRandom(7);
        for (int id = 0; id < ids / 2; id++) b.alloc(id, random.nextInt(16, 600));
        while (b.count() < 280_000) {
            int id = random.nextInt(ids);
            if (b.isLive(id)) {
                if (random.nextInt(100) < 48) b.free(id); // slightly more mallocs than frees: new peaks now and then
            } else {
                b.alloc(id, random.nextInt(16, random.nextInt(50) == 0 ? 200_000 : 600));
            }
        }
        for (int id = 0; id < ids; id++) if (b.isLive(id)) b.free(id);
        Trace trace = b.build();

        HtmlReport report = new HtmlReport("long");
        ReportPass.run(trace, report);
        String html = report.render();

        assertThat(html).contains(", " + trace.size() + " ops</text>");
        for (String line : new String[] {"live", "committed", "retained", "resident"}) {
            // every max(1, ops / 2000) operations, and at each peak snapshot (at most ops / (ops / 200) of them)
            assertThat(TimelinePoints.heights(html, line)).as("points of the %s line", line).hasSizeBetween(1000, 2300);
        }
        assertThat(count(html, "<svg class=\"heapmap\"")).as("maps: at peak and at the end").isEqualTo(2);
        assertThat(html).contains("long: at peak (" + HtmlReport.human(trace.peakLiveBytes()) + " live)");
        Matcher maps = Pattern.compile("<svg class=\"heapmap\".*?</svg>", Pattern.DOTALL).matcher(html);
        while (maps.find()) {
            assertThat(count(maps.group(), "<rect")).as("cells of a map").isBetween(1, HtmlReport.MAX_CELLS);
        }
        assertThat(html.length()).as("the page's characters").isLessThan(2 << 20);
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) n++;
        return n;
    }
}
