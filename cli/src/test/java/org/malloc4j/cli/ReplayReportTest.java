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
}
