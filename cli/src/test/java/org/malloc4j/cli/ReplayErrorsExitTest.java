package org.malloc4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.malloc4j.cli.replay.FaultyAllocator;
import org.malloc4j.cli.replay.FaultyAllocator.Fault;
import org.malloc4j.cli.trace.TraceWriter;

/** A replay that finds errors exits with 1, prints the first few and counts them all. */
class ReplayErrorsExitTest {
    @TempDir
    Path dir;

    @Test
    void errorsFoundExitWithOne() throws Exception {
        Path file = dir.resolve("mixed.rep");
        TraceWriter.write(TestTraces.mixed("mixed", 4_000, 9), file);
        Cli r = Cli.run(name -> new FaultyAllocator(Fault.REALLOC_FORGETS, 1, 32L << 20), "replay", "-a", "broken",
                file.toString());
        assertThat(r.code()).isEqualTo(Main.REPLAY_ERRORS);
        assertThat(r.errLines()).hasSize(6);
        assertThat(r.errLines().subList(0, 5)).allSatisfy(l -> assertThat(l)
                .startsWith("malloc4j replay: error: mixed line ")
                .contains("differs from its pattern after realloc from 0x"));
        assertThat(r.errLines().getLast()).matches("malloc4j replay: error: \\.\\.\\. \\d+ more in mixed");
        assertThat(r.out()).contains("allocator broken");
        String row = r.outLines().stream().filter(l -> l.startsWith("mixed ")).findFirst().orElseThrow();
        assertThat(row).doesNotEndWith(" 0");
    }

    @Test
    void cleanReplayExitsWithZero() throws Exception {
        Path file = dir.resolve("mixed.rep");
        TraceWriter.write(TestTraces.mixed("mixed", 4_000, 9), file);
        Cli r = Cli.run(name -> new FaultyAllocator(Fault.NONE, 1, 32L << 20), "replay", "-a", "fine",
                file.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
    }
}
