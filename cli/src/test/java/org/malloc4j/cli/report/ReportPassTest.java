package org.malloc4j.cli.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.malloc4j.cli.trace.Trace;
import org.malloc4j.cli.trace.TraceBuilder;

class ReportPassTest {
    private static final long MIB = 1024 * 1024;

    /** The peak lasts one op, between two timeline samples (every 10th op of 20 000): the timeline must show it. */
    @Test
    void timelineShowsThePeakEvenBetweenSamples() {
        TraceBuilder b = new TraceBuilder("spike", 2, 20_000, 0);
        while (b.count() < 10_001) {
            if (b.isLive(0)) b.free(0);
            else b.alloc(0, 64);
        }
        b.alloc(1, 100 * MIB); // op 10 001: the peak
        b.free(1);
        while (b.count() < 20_000) {
            if (b.isLive(0)) b.free(0);
            else b.alloc(0, 64);
        }
        Trace trace = b.build();
        HtmlReport report = new HtmlReport("spike");
        ReportPass.run(trace, report);
        String html = report.render();
        assertThat(html).contains("spike: at peak (100.0 MiB live)");
        assertThat(timelineMax(html)).as("the timeline's top").isGreaterThanOrEqualTo(100 * MIB);
    }

    /**
     * 24 MiB left live in small blocks and in two large ones: the program would have them resident (the replay's
     * peak RSS counts them), so the timeline's resident line ends near its live line, not at 0 because the report's
     * own pass never wrote a byte of them.
     */
    @Test
    void residentCountsTheBlocksTheTraceUses() {
        TraceBuilder b = new TraceBuilder("resident", 1002, 1002, 0);
        for (int id = 0; id < 1000; id++) b.alloc(id, 8 * 1024);
        b.alloc(1000, 8 * MIB);
        b.alloc(1001, 8 * MIB);
        HtmlReport report = new HtmlReport("resident");
        ReportPass.run(b.build(), report);
        String html = report.render();
        double live = TimelinePoints.last(html, "live"), resident = TimelinePoints.last(html, "resident");
        assertThat(live).isGreaterThan(0);
        assertThat(resident).as("resident over live at the end").isGreaterThanOrEqualTo(0.9 * live);
    }

    /**
     * Blocks of 0 bytes (malloc(0), which the replay's timed pass asks for as it is): nothing is live, as the replay's
     * summary says (peak live 0 B). The page's pass asked for 1 byte each, and its timeline and class table showed
     * 1000 B live and requested.
     */
    @Test
    void blocksOfZeroBytesHoldNoLiveBytes() {
        TraceBuilder b = new TraceBuilder("zeros", 1000, 1000, 0);
        for (int id = 0; id < 1000; id++) b.alloc(id, 0);
        HtmlReport report = new HtmlReport("zeros");
        ReportPass.run(b.build(), report);
        String html = report.render();
        assertThat(TimelinePoints.highest(html, "live")).as("the live line's top").isZero();
        // The 16-byte class: 1000 live blocks, 0 B requested, all 16 000 B of them rounding waste
        assertThat(html).contains("<td>1000</td>").contains("<td>0 B</td><td>15.6 KiB</td></tr>");
    }

    /** @return the timeline's "max X" label, in bytes */
    static long timelineMax(String html) {
        Matcher m = Pattern.compile("max ([0-9.]+) (B|KiB|MiB|GiB),").matcher(html);
        assertThat(m.find()).as("a timeline with a max label").isTrue();
        double v = Double.parseDouble(m.group(1));
        long unit = switch (m.group(2)) {
            case "B" -> 1;
            case "KiB" -> 1024;
            case "MiB" -> MIB;
            default -> 1024 * MIB;
        };
        return Math.round(v * unit);
    }
}
