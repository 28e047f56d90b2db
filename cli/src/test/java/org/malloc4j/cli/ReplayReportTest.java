package org.malloc4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplayReportTest {
    @Test
    void replayWritesReportWithSectionPerTrace(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("report.html");
        Cli cli = Cli.run("replay", "--workload", "fragmenting", "--report", file.toString());
        assertThat(cli.code()).as(cli.err()).isEqualTo(Main.OK);
        String html = Files.readString(file);
        assertThat(html).startsWith("<!DOCTYPE html>").endsWith("</html>\n")
                .contains("<svg class=\"timeline\"", "<polyline class=\"committed\"", "class=\"heapmap\"",
                        "class=\"histogram\"", "<table class=\"classes\"", "fragmenting: end")
                .doesNotContain("<script", "http://", "https://");
        assertThat(Files.size(file)).isLessThan(2L * 1024 * 1024);
    }

    @Test
    void aMalformedTraceLaterInTheListKeepsThePageOfTheTracesBeforeIt(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("a-good.rep"), "100\n1\n2\n1\na 0 8\nf 0\n");
        Files.writeString(dir.resolve("b-bad.rep"), "100\n1\n2\n1\na 0 8\nq 0\n");
        Files.writeString(dir.resolve("c-unreached.rep"), "100\n1\n2\n1\na 0 8\nf 0\n");
        Path page = dir.resolve("report.html");
        Cli cli = Cli.run("replay", "--no-rehearsal", dir.toString(), "--report", page.toString());
        assertThat(cli.code()).as(cli.err()).isEqualTo(Main.BAD_INPUT);
        Path bad = dir.resolve("b-bad.rep");
        assertThat(cli.errLines()).containsExactly(
                "malloc4j replay: " + bad + " line 6: unknown op 'q' (expected a, f or r)",
                "malloc4j replay: wrote " + page + " for the trace replayed before " + bad
                        + "; not replayed: c-unreached");
        assertThat(cli.out()).contains("a-good");
        assertThat(Files.readString(page)).contains("Timeline a-good", "a-good: end",
                "Incomplete: the replay stopped at a malformed trace (" + bad + " line 6: unknown op",
                "This page shows the trace replayed before it; not replayed: c-unreached.")
                .doesNotContain("Timeline c-unreached");
    }

    @Test
    void aMalformedFirstTraceLeavesThePageAsItWas(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.rep");
        Files.writeString(bad, "100\n1\n2\n1\na 0 8\nq 0\n");
        Path page = dir.resolve("report.html");
        Files.writeString(page, "last run's page");
        Cli cli = Cli.run("replay", bad.toString(), "--workload", "ramp", "--report", page.toString());
        assertThat(cli.code()).as(cli.err()).isEqualTo(Main.BAD_INPUT);
        assertThat(cli.errLines()).containsExactly("malloc4j replay: " + bad + " line 6: unknown op 'q' (expected a,"
                + " f or r)");
        assertThat(Files.readString(page)).isEqualTo("last run's page");
    }
}
