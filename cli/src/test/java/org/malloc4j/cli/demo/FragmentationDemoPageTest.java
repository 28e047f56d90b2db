package org.malloc4j.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.malloc4j.cli.report.HtmlReport;
import org.malloc4j.cli.report.TimelinePoints;

/** The fragmentation demo compares heaps of one size, and its page's timeline shows the memory its blocks use. */
class FragmentationDemoPageTest {
    /**
     * The issue: the same steps on malloc4j and on a naive heap "of the same size". malloc4j's limit was the naive
     * heap's size plus a 16 MiB margin: a quarter more memory than the heap it was compared with.
     */
    @Test
    void bothHeapsHaveTheSameSize() {
        FragmentationDemo.Result r = FragmentationDemo.run(null);
        assertThat(r.malloc4j().heapBytes()).isEqualTo(FragmentationDemo.HEAP);
        assertThat(r.naive().heapBytes()).isEqualTo(FragmentationDemo.HEAP);
        assertThat(r.malloc4j().largeSucceeded()).as("the large request, on a heap no larger").isTrue();
        assertThat(r.naive().largeSucceeded()).isFalse();
        StringWriter text = new StringWriter();
        FragmentationDemo.print(r, new PrintWriter(text));
        assertThat(text.toString()).containsPattern("heap size +64\\.0 MiB +64\\.0 MiB");
    }

    /**
     * The page's timeline has live, committed and resident bytes: the demo never wrote to its blocks, so its
     * resident line lay flat at 0 under 60 MiB of live blocks.
     */
    @Test
    void theTimelinesResidentLineShowsTheBlocks() {
        HtmlReport report = new HtmlReport("demo");
        FragmentationDemo.run(report);
        String html = report.render();
        double live = TimelinePoints.highest(html, "live"), resident = TimelinePoints.highest(html, "resident");
        assertThat(live).isGreaterThan(0);
        assertThat(resident).as("resident's top over live's top").isGreaterThanOrEqualTo(0.9 * live);
    }
}
