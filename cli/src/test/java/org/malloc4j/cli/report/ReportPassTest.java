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
