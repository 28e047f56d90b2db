package org.malloc4j.cli.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.malloc4j.cli.Main;
import org.malloc4j.cli.demo.FragmentationDemo;

/**
 * Opens report pages in a real headless Chromium: a replay's (the main job's) and the fragmentation demo's, each with
 * its heap map and timeline drawn (the DOM Chromium built: map cells, and timeline lines of many points that rise
 * above the axis), no console errors, and a screenshot in target/.
 */
class ChromiumReportTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");

    @Test
    void aReplayPageRendersInChromium(@TempDir Path dir) throws Exception {
        assumeChromium();
        Path page = dir.resolve("replay.html");
        StringWriter err = new StringWriter();
        int code = Main.execute(new PrintWriter(new StringWriter()), new PrintWriter(err), "replay", "-w",
                "fragmenting", "--report", page.toString());
        assertThat(code).as(err.toString()).isZero();
        rendersWithMapAndTimeline(dir, page, "replay-report-screenshot.png");
    }

    @Test
    void theDemoPageRendersInChromium(@TempDir Path dir) throws Exception {
        assumeChromium();
        HtmlReport report = new HtmlReport("chromium test");
        FragmentationDemo.run(report);
        Path page = dir.resolve("report.html");
        report.write(page);
        rendersWithMapAndTimeline(dir, page, "report-screenshot.png");
    }

    /**
     * The check for console errors sees what a page logs, in the form this Chromium writes it: Chromium 156 writes
     * {@code INFO:CONSOLE:1] "boom", source: ...}, which the check's {@code :CONSOLE(} (an older form) missed, so a
     * page's {@code console.error} passed as no error; only an uncaught exception was seen.
     */
    @Test
    void consoleErrorsOfAPageAreSeen(@TempDir Path dir) throws Exception {
        assumeChromium();
        Path page = dir.resolve("bad.html");
        Files.writeString(page, "<!DOCTYPE html><html><body><p>x</p><script>console.error(\"report-test-error\");"
                + "</script></body></html>\n");
        Chromium dump = chromium(dir, "--dump-dom", page.toUri().toString());
        assertThat(consoleErrors(dump.err())).as("the console lines Chromium wrote for a page that logs an error")
                .anySatisfy(l -> assertThat(l).contains("report-test-error"));
    }

    private static void assumeChromium() {
        if (!Files.isExecutable(CHROMIUM)) System.err.println("ChromiumReportTest: no /usr/bin/chromium: skipped");
        assumeTrue(Files.isExecutable(CHROMIUM), "no /usr/bin/chromium: browser test skipped");
    }

    private static void rendersWithMapAndTimeline(Path dir, Path page, String screenshot) throws Exception {
        Path shot = Path.of("target", screenshot).toAbsolutePath();
        Files.deleteIfExists(shot);
        Chromium dump = chromium(dir, "--dump-dom", page.toUri().toString());
        String dom = dump.out();
        assertThat(dom).contains("class=\"heapmap\"", "class=\"timeline\"");
        assertThat(count(dom, "<rect")).as("cells of the heap maps and the histogram").isGreaterThan(100);
        for (String line : new String[] {"live", "committed", "resident"}) {
            assertThat(TimelinePoints.heights(dom, line)).as("points of the %s line", line).hasSizeGreaterThan(10);
            assertThat(TimelinePoints.highest(dom, line)).as("the timeline's %s line rises above its axis", line)
                    .isGreaterThan(20);
        }
        assertThat(consoleErrors(dump.err())).isEmpty();

        Chromium s = chromium(dir, "--screenshot=" + shot, page.toUri().toString());
        assertThat(consoleErrors(s.err())).isEmpty();
        assertThat(shot).exists();
        assertThat(Files.size(shot)).isGreaterThan(10 * 1024);
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) n++;
        return n;
    }

    private record Chromium(String out, String err) {}

    private static List<String> consoleErrors(String err) {
        List<String> bad = new ArrayList<>();
        for (String line : err.split("\n")) {
            // Every console line the page makes (it has no script, so any is a fault): ":CONSOLE(1)" in older
            // Chromiums, ":CONSOLE:1]" in Chromium 156, at INFO level whatever the console method was
            if (line.contains("Uncaught") || line.contains(":CONSOLE")) bad.add(line);
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
