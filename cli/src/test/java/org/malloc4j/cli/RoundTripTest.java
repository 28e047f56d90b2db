package org.malloc4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.malloc4j.cli.trace.Trace;
import org.malloc4j.cli.trace.TraceReader;
import org.malloc4j.cli.trace.TraceWriter;
import org.malloc4j.cli.workload.Workloads;

/** A generated workload written as .rep.gz (and .rep) reads back as the same trace and replays cleanly. */
class RoundTripTest {
    @TempDir
    Path dir;

    @Test
    void generatedWorkloadSurvivesGzipRoundTrip() throws Exception {
        Trace original = Workloads.named("realloc-growth").orElseThrow().generate();
        Path file = dir.resolve("realloc-growth.rep.gz");
        TraceWriter.write(original, file);
        assertThat(Files.size(file)).isLessThan(4L << 20);
        try (var in = Files.newInputStream(file)) {
            assertThat(in.read()).as("gzip magic").isEqualTo(0x1f);
        }

        Trace back = TraceReader.read(file);
        assertThat(back.name()).isEqualTo("realloc-growth");
        assertThat(back.sameOpsAs(original)).isTrue();
        assertThat(back.peakLiveBytes()).isEqualTo(original.peakLiveBytes());
        assertThat(back.finalLiveBytes()).isEqualTo(original.finalLiveBytes());
        assertThat(back.idSpan()).isEqualTo(original.idSpan());

        Cli r = Cli.run("replay", "--json", file.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(Json.object(r.outLines().getFirst())).containsEntry("trace", "realloc-growth")
                .containsEntry("ops", (double) original.size()).containsEntry("errors", 0.0);
    }

    @Test
    void plainAndHugeSizesSurviveRoundTrip() throws IOException, Exception {
        Trace original = TestTraces.mixed("mixed", 20_000, 7);
        Path file = dir.resolve("mixed.rep");
        TraceWriter.write(original, file);
        assertThat(Files.readAllLines(file).subList(0, 4)).containsExactly(
                Long.toString(original.peakLiveBytes()), Integer.toString(original.idSpan()),
                Integer.toString(original.size()), "1");
        assertThat(TraceReader.read(file).sameOpsAs(original)).isTrue();

        Path huge = dir.resolve("huge.rep");
        Files.writeString(huge, "0\n3\n4\n1\na 0 5000000000\na 1 " + Long.MAX_VALUE + "\nf 0\nr 1 4294967295\n");
        Trace t = TraceReader.read(huge);
        assertThat(t.size(0)).isEqualTo(5_000_000_000L);
        assertThat(t.size(1)).isEqualTo(Long.MAX_VALUE);
        assertThat(t.size(3)).isEqualTo(4_294_967_295L);
        assertThat(t.idSpan()).isEqualTo(2);
    }
}
