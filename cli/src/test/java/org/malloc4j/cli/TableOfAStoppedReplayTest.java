package org.malloc4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The table on stdout when the replay stops at a malformed trace. A later trace: the table ended with its legend as a
 * whole one does, and nothing in it said that traces were missing (the page of {@code --report} says so), so a table
 * saved to a file read as complete. The first trace: the title and column headings were printed with no row under
 * them.
 */
class TableOfAStoppedReplayTest {
    @TempDir
    Path dir;

    @Test
    void aTableCutShortByAMalformedTraceSaysSoAndNamesWhatWasNotReplayed() throws Exception {
        Files.writeString(dir.resolve("a-good.rep"), "100\n1\n2\n1\na 0 8\nf 0\n");
        Path bad = dir.resolve("b-bad.rep");
        Files.writeString(bad, "100\n1\n2\n1\na 0 8\nq 0\n");
        Files.writeString(dir.resolve("c-unreached.rep"), "100\n1\n2\n1\na 0 8\nf 0\n");
        Cli r = Cli.run("replay", "--no-rehearsal", dir.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(Main.BAD_INPUT);
        assertThat(r.outLines()).anyMatch(l -> l.startsWith("a-good "))
                .noneMatch(l -> l.startsWith("c-unreached "))
                .contains("Incomplete: the replay stopped at a malformed trace (" + bad + " line 6: unknown op 'q'"
                        + " (expected a, f or r)); not replayed: c-unreached.");
        assertThat(r.errLines()).containsExactly("malloc4j replay: " + bad + " line 6: unknown op 'q' (expected a, f"
                + " or r)");
    }

    @Test
    void aMalformedFirstTracePrintsNoTable() throws Exception {
        Path bad = dir.resolve("bad.rep");
        Files.writeString(bad, "100\n1\n2\n1\na 0 8\nq 0\n");
        Cli r = Cli.run("replay", "--no-rehearsal", bad.toString(), "--workload", "ramp");
        assertThat(r.code()).as(r.err()).isEqualTo(Main.BAD_INPUT);
        assertThat(r.out()).isEmpty();
        assertThat(r.errLines()).containsExactly("malloc4j replay: " + bad + " line 6: unknown op 'q' (expected a, f"
                + " or r)");
    }
}
