package org.malloc4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Input at the edges of what the tool accepts: requests the heap must refuse, headers that would exhaust the tool's
 * own memory, option values that overflow, report files that cannot be written. Each is a replay error (exit 1) or
 * bad input (exit 2, one line), never a crash of the tool.
 */
class ReplayEdgeInputTest {
    @TempDir
    Path dir;

    private Path trace(String name, String text) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, text);
        return file;
    }

    @Test
    void aRequestTheHeapRefusesIsAReplayErrorAsANativeNullIs() throws Exception {
        // 100 GB: over the default heap's 64 GiB reservation. malloc4j throws HeapExhaustedException, an Error,
        // which the passes caught only as RuntimeException: the tool died with a stack trace
        Path t = trace("huge.rep", "0\n2\n2\n1\na 0 100000000000\nf 0\n");
        Cli r = Cli.run("replay", t.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(Main.REPLAY_ERRORS);
        assertThat(r.errLines()).first().asString().startsWith("malloc4j replay: error: huge line 5")
                .contains("HeapExhaustedException");
        assertThat(r.err()).doesNotContain("\tat ");
        Path page = dir.resolve("huge.html");
        Cli withReport = Cli.run("replay", "--report", page.toString(), t.toString());
        assertThat(withReport.code()).as(withReport.err()).isEqualTo(Main.REPLAY_ERRORS);
        assertThat(Files.readString(page)).contains("1 request(s) the heap refused");
    }

    @Test
    void aHeaderWithFarMoreIdsThanOpsIsBadInput() throws Exception {
        Path t = trace("ids.rep", "0\n1073741824\n2\n1\na 1073741823 10\nf 1073741823\n");
        Cli r = Cli.run("replay", t.toString());
        assertThat(r.code()).isEqualTo(Main.BAD_INPUT);
        assertThat(r.errLines()).singleElement().asString()
                .contains("ids.rep line 2: number of ids 1073741824 is more than the number of ops");
    }

    @Test
    void durationsBeyondALongOfNanosecondsAreBadInput() throws Exception {
        Path t = trace("ok.rep", "0\n1\n2\n1\na 0 10\nf 0\n");
        for (String option : new String[] {"--min-time", "--decay"}) {
            Cli r = Cli.run("replay", option, "999999999m", t.toString());
            assertThat(r.code()).as(option + ": " + r.err()).isEqualTo(Main.BAD_INPUT);
            assertThat(r.errLines()).singleElement().asString().contains(option).contains("153722867m");
        }
    }

    @Test
    void aReportThatCannotBeWrittenIsBadInputBeforeTheReplay() throws Exception {
        Path t = trace("ok.rep", "0\n1\n2\n1\na 0 10\nf 0\n");
        Cli r = Cli.run("replay", "--report", dir.resolve("missing/r.html").toString(), t.toString());
        assertThat(r.code()).isEqualTo(Main.BAD_INPUT);
        assertThat(r.errLines()).singleElement().asString().contains("no such directory");
        assertThat(r.out()).doesNotContain("ok "); // nothing replayed
        Cli d = Cli.run("replay", "--report", dir.toString(), t.toString());
        assertThat(d.code()).isEqualTo(Main.BAD_INPUT);
        assertThat(d.err()).contains("it is a directory");
    }

    @Test
    void theReportDrawsTheTracesOwnPeakAndNumbersUnderAnyLocale() throws Exception {
        // A peak reached by a few large blocks in a row fell between the sampled snapshots; two files of one name
        // shared one timeline; a decimal-comma locale broke the SVG's coordinates
        Path a = Files.createDirectories(dir.resolve("a")), b = Files.createDirectories(dir.resolve("b"));
        StringBuilder ops = new StringBuilder();
        for (int i = 0; i < 1000; i++) ops.append("a ").append(i).append(" 64\n");
        for (int i = 1000; i < 1004; i++) ops.append("a ").append(i).append(" 1000000\n");
        for (int i = 0; i < 1004; i++) ops.append("f ").append(i).append('\n');
        Files.writeString(a.resolve("t.rep"), "0\n1004\n2008\n1\n" + ops);
        Files.writeString(b.resolve("t.rep"), "0\n1\n2\n1\na 0 10\nf 0\n");
        Path page = dir.resolve("r.html");
        Locale before = Locale.getDefault();
        Locale.setDefault(Locale.GERMANY);
        Cli r;
        try {
            r = Cli.run("replay", "--report", page.toString(), a.resolve("t.rep").toString(),
                    b.resolve("t.rep").toString());
        } finally {
            Locale.setDefault(before);
        }
        assertThat(r.code()).as(r.err()).isEqualTo(Main.OK);
        String html = Files.readString(page);
        assertThat(html).contains("a/t: at peak (3.9 MiB live)", "Timeline a/t</h2>", "Timeline b/t</h2>")
                .doesNotContainPattern("points=\"\\d+,\\d");
    }

    // Found by a review on 2026-12-07: each of the five below died with an internal error (exit 3), added a false
    // replay error, printed a time for no work, or skipped the checks of the options beside it.

    /**
     * A six-line file whose header declares a billion ids and two billion ops (both within the limits the reader
     * checks, and ids <= ops + 1,000,000) makes the builder size its per-id arrays for id 2^30 - 1 at the first op,
     * before the op count is ever checked against the file: OutOfMemoryError, exit 3 with a stack trace, instead of
     * bad input naming the file and line.
     */
    @Test
    void aHeaderDeclaringBillionsOfOpsDoesNotLetOneIdExhaustTheJvm() throws Exception {
        Path t = trace("big.rep", "0\n1073741824\n2000000000\n1\na 1073741823 10\nf 1073741823\n");
        Cli r = Cli.run("replay", "--no-rehearsal", t.toString());
        assertThat(r.err()).doesNotContain("OutOfMemoryError").doesNotContain("\tat ");
        assertThat(r.code()).as(r.err()).isEqualTo(Main.BAD_INPUT);
        assertThat(r.errLines()).singleElement().asString().contains("big.rep line");
    }

    /**
     * One malloc the heap refuses is one replay error without --leaks (plus the timed pass's), but with --leaks the
     * leak report's count (the trace's live blocks) is compared with malloc4j's (which never held the refused
     * block) and a third, false error is added: the error count depends on --leaks.
     */
    @Test
    void leaksDoNotAddAnErrorForAMallocTheHeapRefused() throws Exception {
        Path t = trace("refused.rep", "0\n2\n2\n1\na 0 100000000000\na 1 10\n");
        Cli plain = Cli.run("replay", "--no-rehearsal", "--json", t.toString());
        Cli leaks = Cli.run("replay", "--no-rehearsal", "--json", "--leaks", t.toString());
        assertThat(plain.code()).isEqualTo(Main.REPLAY_ERRORS);
        assertThat(leaks.err()).doesNotContain("the leak report lists");
        assertThat(Json.object(leaks.outLines().getFirst()).get("errors"))
                .isEqualTo(Json.object(plain.outLines().getFirst()).get("errors"));
    }

    /** A trace of no operations has no time per operation; it reported the empty loop's time (30-50 ns/op). */
    @Test
    void anEmptyTraceHasNoTimePerOp() throws Exception {
        Path t = trace("empty.rep", "0\n0\n0\n1\n");
        Cli r = Cli.run("replay", "--no-rehearsal", "--json", t.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(Main.OK);
        assertThat(Json.object(r.outLines().getFirst()).get("nsPerOp")).isNull();
    }

    /**
     * demo latency accepts --batch times --delay up to 16M blocks in flight, but the naive heap is sized
     * 2 * fill + 16 MiB: 16 x 1024 blocks of ~2 KiB (32 MiB) in flight over a 2 MiB fill fill it, and the demo dies
     * with IllegalStateException "naive heap full", exit 3 and a stack trace.
     */
    @Test
    void latencyDemoOptionsWithinTheirLimitsDoNotCrash() {
        Cli r = Cli.run("demo", "latency", "--fill", "2", "--batch", "16", "--delay", "1024", "--batches", "10",
                "--warmup", "0", "--levels", "0");
        assertThat(r.err()).doesNotContain("naive heap full").doesNotContain("\tat ");
        assertThat(r.code()).as(r.err()).isIn(Main.OK, Main.BAD_INPUT);
    }

    /** {@code --list} alone: with other options or traces it skipped their checks and exited 0. */
    @Test
    void listTakesNoOtherOptionOrTrace() {
        Cli alone = Cli.run("replay", "--list");
        assertThat(alone.code()).as(alone.err()).isEqualTo(Main.OK);
        assertThat(alone.out()).contains("realloc-growth");
        Cli withMore = Cli.run("replay", "--list", "--repeat", "0", "--min-time", "bogus", "/nonexistent.rep");
        assertThat(withMore.code()).isEqualTo(Main.BAD_INPUT);
        assertThat(withMore.err()).contains("--list takes no other option and no trace");
        assertThat(withMore.out()).isEmpty();
    }

    /**
     * {@code -w ,} names no workload: picocli splits it into an empty list, and the replay took it for no {@code -w}
     * at all and replayed every bundled workload (minutes of work nobody asked for), exit 0; {@code -w ''} was refused.
     */
    @Test
    void aWorkloadListNamingNoWorkloadIsBadInput() {
        // an unknown allocator stops the replay before any trace: the message said so, not what was wrong with -w
        Cli withAllocator = Cli.run("replay", "-a", "nosuch", "-w", ",");
        assertThat(withAllocator.code()).isEqualTo(Main.BAD_INPUT);
        assertThat(withAllocator.err()).contains("-w names no workload");
        Cli r = Cli.run("replay", "--json", "-w", ",");
        assertThat(r.code()).isEqualTo(Main.BAD_INPUT);
        assertThat(r.err()).contains("-w names no workload", "','");
        assertThat(r.out()).isEmpty();
    }
}
