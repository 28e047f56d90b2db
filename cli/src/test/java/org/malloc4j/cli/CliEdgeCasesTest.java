package org.malloc4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input and odd cases of the command-line tool, each of which failed before its fix (a review, 2026-12-07). */
class CliEdgeCasesTest {
    @TempDir
    Path dir;

    /** {@code --report} naming the trace replayed replaced the trace with the page, and exited 0: the trace was lost. */
    @Test
    void aReportNamingAnInputTraceIsBadInputAndTheTraceIsKept() throws Exception {
        String content = "100\n1\n2\n1\na 0 8\nf 0\n";
        Path trace = dir.resolve("gcc.rep");
        Files.writeString(trace, content);
        Cli r = Cli.run("replay", "--no-rehearsal", trace.toString(), "--report", trace.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(Main.BAD_INPUT);
        assertThat(r.err()).contains("would overwrite the trace");
        assertThat(Files.readString(trace)).isEqualTo(content);

        // the same through a directory argument
        Cli viaDir = Cli.run("replay", "--no-rehearsal", dir.toString(), "--report", trace.toString());
        assertThat(viaDir.code()).as(viaDir.err()).isEqualTo(Main.BAD_INPUT);
        assertThat(Files.readString(trace)).isEqualTo(content);
    }

    /**
     * {@code demo fragmentation --report}: the issue asks the demo's page, as a replay's, for a timeline of live,
     * committed and resident bytes; the page had heap maps only.
     */
    @Test
    void theDemosPageHasATimeline() throws Exception {
        Path page = dir.resolve("demo.html");
        Cli r = Cli.run("demo", "fragmentation", "--report", page.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(Main.OK);
        String html = Files.readString(page);
        assertThat(html).contains("class=\"timeline\"", "<polyline");
        assertThat(points(html).size()).isGreaterThan(2);
    }

    /** A trace of one operation: its timeline was one point (op 1), a polyline that draws nothing. */
    @Test
    void aOneOperationTraceHasATimelineLine() throws Exception {
        Path trace = dir.resolve("one.rep");
        Files.writeString(trace, "100\n1\n1\n1\na 0 4096\n");
        Path page = dir.resolve("one.html");
        Cli r = Cli.run("replay", "--no-rehearsal", trace.toString(), "--report", page.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(Main.OK);
        assertThat(points(Files.readString(page))).hasSizeGreaterThanOrEqualTo(2);
    }

    /**
     * A page name the file system takes (255 bytes) could not be written: the temporary file beside it was named
     * after it, with 20 more bytes. The replay ran, then exited 2 with "File name too long" and no page.
     */
    @Test
    void aLongButLegalReportNameIsWritten() throws Exception {
        Path trace = dir.resolve("t.rep");
        Files.writeString(trace, "100\n1\n2\n1\na 0 8\nf 0\n");
        Path page = dir.resolve("r".repeat(250) + ".html");
        Cli r = Cli.run("replay", "--no-rehearsal", trace.toString(), "--report", page.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(Main.OK);
        assertThat(page).exists();
    }

    /** {@code --track-sites} took Java's literal forms (0.5f, 1d, a hex float) as the rate: bad options accepted. */
    @Test
    void trackSitesTakesDecimalsOnly() {
        for (String rate : List.of("0.5f", "1d", "0x1p-4")) {
            Cli r = Cli.run("replay", "-w", "ramp", "--no-rehearsal", "--track-sites", rate);
            assertThat(r.code()).as(rate + ": " + r.err()).isEqualTo(Main.BAD_INPUT);
            assertThat(r.err()).contains("--track-sites must be a number from 0 to 1");
        }
        assertThat(ReplayCommand.parseRate("1e-3")).isEqualTo(0.001);
        assertThat(ReplayCommand.parseRate(".5")).isEqualTo(0.5);
        assertThat(ReplayCommand.parseRate("1")).isEqualTo(1.0);
    }

    /**
     * The launcher's JDK search ({@code .mvn/find-jdk.sh}, sourced by {@code ./malloc4j} under {@code set -u}) died
     * with "HOME: unbound variable" where HOME is not set (env -i, some services and containers), before looking in
     * /usr/lib/jvm, where a JDK 25 was.
     */
    @Test
    void theJdkSearchWorksWithoutHome() throws Exception {
        Path script = Path.of("").toAbsolutePath().getParent().resolve(".mvn/find-jdk.sh");
        assumeTrue(Files.isRegularFile(script), "not run from the cli module of a checkout");
        Path javaHome = Path.of(System.getProperty("java.home")).toRealPath();
        assumeTrue(javaHome.startsWith("/usr/lib/jvm"), "this JDK is not where the search looks without HOME");
        ProcessBuilder pb = new ProcessBuilder("bash", "-c",
                "set -euo pipefail; . \"$1\"; malloc4j_find_jdk; echo \"found $JAVA_HOME\"", "bash", script.toString());
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/bin:/bin");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("found /").doesNotContain("unbound variable");
    }

    /**
     * {@code replay ""} (an unset shell variable) read the current directory, the file system's meaning of the empty
     * path: its traces were replayed, or it failed with ": no *.rep or *.rep.gz file in this directory", naming no
     * argument. It is bad input, and the message says which argument was empty.
     */
    @Test
    void anEmptyTracePathIsBadInputNamingTheArgument() throws Exception {
        Path trace = dir.resolve("t.rep");
        Files.writeString(trace, "100\n1\n2\n1\na 0 8\nf 0\n");
        Cli alone = Cli.run("replay", "--no-rehearsal", "");
        assertThat(alone.code()).as(alone.err()).isEqualTo(Main.BAD_INPUT);
        assertThat(alone.errLines()).containsExactly("malloc4j replay: '': an empty trace path (TRACE 1 of 1): name a"
                + " trace file or a directory, '.' for the current one");
        assertThat(alone.out()).isEmpty();

        Cli second = Cli.run("replay", "--no-rehearsal", trace.toString(), "");
        assertThat(second.code()).as(second.err()).isEqualTo(Main.BAD_INPUT);
        assertThat(second.err()).contains("an empty trace path (TRACE 2 of 2)");
        assertThat(second.out()).as("nothing is replayed").isEmpty();
    }

    /** @return the points of the page's first timeline polyline */
    private static List<String> points(String html) {
        Matcher m = Pattern.compile("<polyline class=\"live\"[^>]* points=\"([^\"]*)\"").matcher(html);
        assertThat(m.find()).as("a live-bytes polyline").isTrue();
        return List.of(m.group(1).trim().split(" +"));
    }

    /**
     * The JVM's own heap running out (a trace of hundreds of millions of operations is held in memory) was reported
     * as an internal error with a stack trace; it says what ran out and how to give the JVM more. A malloc4j heap's
     * refusal, also an OutOfMemoryError, is not taken for it.
     */
    @Test
    void theJavaHeapRunningOutSaysHowToGiveItMore() {
        Cli r = Cli.run(name -> {
            throw new OutOfMemoryError("Java heap space");
        }, "replay", "-w", "ramp", "--no-rehearsal");
        assertThat(r.code()).isEqualTo(Main.INTERNAL_ERROR);
        assertThat(r.err()).contains("ran out of its Java heap", "Java heap space", "MALLOC4J_JAVA_OPTS=-Xmx")
                .doesNotContain("\tat ");
        assertThat(Main.outOfJavaHeap(new org.malloc4j.HeapExhaustedException(1, "refused"))).isFalse();
    }
}
