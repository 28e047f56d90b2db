package org.malloc4j.cli.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.malloc4j.cli.demo.FragmentationDemo;

/** Opens a report in a real headless Chromium: drawn map and timeline, no console errors, a screenshot. */
class ChromiumReportTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");

    @Test
    void pageRendersInChromium(@TempDir Path dir) throws Exception {
        if (!Files.isExecutable(CHROMIUM)) System.err.println("ChromiumReportTest: no /usr/bin/chromium: skipped");
        assumeTrue(Files.isExecutable(CHROMIUM), "no /usr/bin/chromium: browser test skipped");
        HtmlReport report = new HtmlReport("chromium test");
        for (int i = 0; i < 100; i++) report.sample(i, i * 1000L, i * 1500L, i * 100L, i * 1200L);
        FragmentationDemo.run(report);
        Path page = dir.resolve("report.html");
        report.write(page);
        Path shot = Path.of("target", "report-screenshot.png").toAbsolutePath();
        Files.deleteIfExists(shot);

        Chromium dump = chromium(dir, "--dump-dom", page.toUri().toString());
        assertThat(dump.out()).contains("<polyline", "class=\"heapmap\"", "<rect");
        assertThat(consoleErrors(dump.err())).isEmpty();

        Chromium s = chromium(dir, "--screenshot=" + shot, page.toUri().toString());
        assertThat(consoleErrors(s.err())).isEmpty();
        assertThat(shot).exists();
        assertThat(Files.size(shot)).isGreaterThan(10 * 1024);
    }

    private record Chromium(String out, String err) {}

    private static List<String> consoleErrors(String err) {
        List<String> bad = new ArrayList<>();
        for (String line : err.split("\n")) {
            if (line.contains("Uncaught") || line.contains("ERROR:CONSOLE") || line.contains(":CONSOLE(")) bad.add(line);
        }
        return bad;
    }

    private static Chromium chromium(Path dir, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--enable-logging=stderr", "--v=0",
                "--user-data-dir=" + Files.createTempDirectory(dir, "chromium"), "--window-size=1400,1800"));
        cmd.addAll(List.of(args));
        Path out = dir.resolve("out.txt"), err = dir.resolve("err.txt");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("chromium did not finish in 60 s");
        }
        return new Chromium(Files.readString(out), Files.readString(err));
    }
}
