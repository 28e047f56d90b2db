package org.malloc4j.cli.report;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.malloc4j.cli.trace.Trace;
import org.malloc4j.cli.trace.TraceBuilder;

/** The report's timeline counts operations done, not the index of the last one. */
class ReportTimelineCountTest {
    /** A trace of 10 operations: the timeline's label said "9 ops" (the last sample's 0-based index). */
    @Test
    void theTimelineCountsEveryOperation() {
        TraceBuilder b = new TraceBuilder("ten", 5, 10, 0);
        for (int id = 0; id < 5; id++) b.alloc(id, 100);
        for (int id = 0; id < 5; id++) b.free(id);
        Trace trace = b.build();
        assertThat(trace.size()).isEqualTo(10);
        HtmlReport report = new HtmlReport("ten");
        ReportPass.run(trace, report);
        assertThat(report.render()).contains(", 10 ops</text>");
    }
}
