package org.malloc4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.malloc4j.cli.trace.Trace;
import org.malloc4j.cli.trace.TraceWriter;

/** {@code replay --json}: one object a line per trace, every key there, every value sane. */
class JsonOutputTest {
    private static final List<String> KEYS = List.of("trace", "allocator", "ops", "nsPerOp", "peakLiveBytes",
            "tracePeakLiveBytes", "peakCommittedBytes", "peakFootprintBytes", "utilization", "externalFragmentation",
            "peakRssBytes", "firstRunRssBytes", "errors");

    @TempDir
    Path dir;

    @Test
    void oneSaneLinePerTraceOnMalloc4j() throws IOException {
        Trace small = TestTraces.mixed("mixed", 5_000, 1);
        Path file = dir.resolve("mixed.rep");
        TraceWriter.write(small, file);

        Cli r = Cli.run("replay", "--json", file.toString(), "-w", "short-lived");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        List<String> lines = r.outLines();
        assertThat(lines).hasSize(2);

        Map<String, Object> first = Json.object(lines.get(0));
        assertThat(first.keySet()).containsExactlyElementsOf(KEYS);
        assertThat(first).containsEntry("trace", "mixed").containsEntry("allocator", "malloc4j")
                .containsEntry("ops", (double) small.size()).containsEntry("errors", 0.0)
                .containsEntry("tracePeakLiveBytes", (double) small.peakLiveBytes());
        assertSaneMalloc4j(first);

        Map<String, Object> second = Json.object(lines.get(1));
        assertThat(second.keySet()).containsExactlyElementsOf(KEYS);
        assertThat(second).containsEntry("trace", "short-lived").containsEntry("errors", 0.0);
        assertThat((double) second.get("ops")).isGreaterThan(200_000);
        assertSaneMalloc4j(second);
    }

    @Test
    void nativeAllocatorHasNullForWhatItCannotTell() throws IOException {
        Path file = dir.resolve("mixed.rep.gz");
        TraceWriter.write(TestTraces.mixed("mixed", 5_000, 2), file);
        Cli r = Cli.run("replay", "--json", "--allocator", "glibc", "--repeat", "2", file.toString());
        assertThat(r.code()).as(r.err()).isZero();
        Map<String, Object> m = Json.object(r.outLines().getFirst());
        assertThat(m.keySet()).containsExactlyElementsOf(KEYS);
        assertThat(m).containsEntry("allocator", "glibc").containsEntry("peakCommittedBytes", null)
                .containsEntry("peakFootprintBytes", null)
                .containsEntry("utilization", null).containsEntry("externalFragmentation", null)
                .containsEntry("errors", 0.0);
        assertThat((double) m.get("nsPerOp")).isPositive();
        assertThat(m.get("peakLiveBytes")).isEqualTo(m.get("tracePeakLiveBytes"));
        assertThat(m).as("a native allocator is not rehearsed").containsEntry("firstRunRssBytes", null);
    }

    @Test
    void noRehearsalLeavesTheFirstRunFigureOut() throws IOException {
        Path file = dir.resolve("mixed.rep");
        TraceWriter.write(TestTraces.mixed("mixed", 2_000, 4), file);
        Cli r = Cli.run("replay", "--json", "--no-rehearsal", file.toString());
        assertThat(r.code()).as(r.err()).isZero();
        Map<String, Object> m = Json.object(r.outLines().getFirst());
        assertThat(m).containsEntry("firstRunRssBytes", null).containsEntry("errors", 0.0);
        assertSaneMalloc4j(m);
    }

    @Test
    void tableHasOneRowPerTrace() throws IOException {
        Path file = dir.resolve("mixed.rep");
        TraceWriter.write(TestTraces.mixed("mixed", 3_000, 3), file);
        Cli r = Cli.run("replay", file.toString(), file.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("trace", "ns/op", "peak live", "peak committed", "utilization", "peak RSS",
                "1st run RSS", "errors");
        assertThat(r.outLines().stream().filter(l -> l.startsWith("mixed "))).hasSize(2);
    }

    /** The allocator's name was the user's spelling of --allocator (JEMALLOC, Malloc4J), not the canonical one. */
    @Test
    void theAllocatorIsNamedCanonicallyHoweverTheOptionSpellsIt() throws IOException {
        Path file = dir.resolve("mixed.rep");
        TraceWriter.write(TestTraces.mixed("mixed", 1_000, 5), file);
        for (String spelling : List.of("MALLOC4J", "Malloc4j", "GLIBC")) {
            Cli r = Cli.run("replay", "--json", "--no-rehearsal", "-a", spelling, file.toString());
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(Json.object(r.outLines().getFirst())).as(spelling)
                    .containsEntry("allocator", spelling.toLowerCase(java.util.Locale.ROOT));
        }
        Cli withHeapOptions = Cli.run("replay", "--json", "--no-rehearsal", "-a", "Malloc4J", "--decay", "0",
                file.toString());
        assertThat(withHeapOptions.code()).as(withHeapOptions.err()).isZero();
        assertThat(Json.object(withHeapOptions.outLines().getFirst())).containsEntry("allocator", "malloc4j");
        Cli table = Cli.run("replay", "--no-rehearsal", "-a", "MALLOC4J", file.toString());
        assertThat(table.out()).startsWith("malloc4j replay: allocator malloc4j, 1 trace");
    }

    private static void assertSaneMalloc4j(Map<String, Object> m) {
        double ops = (double) m.get("ops");
        double nsPerOp = (double) m.get("nsPerOp");
        double live = (double) m.get("peakLiveBytes");
        double traceLive = (double) m.get("tracePeakLiveBytes");
        double committed = (double) m.get("peakCommittedBytes");
        double utilization = (double) m.get("utilization");
        assertThat(ops).isPositive();
        assertThat(nsPerOp).isPositive();
        assertThat(live).isGreaterThanOrEqualTo(traceLive).isPositive();
        assertThat(committed).isGreaterThanOrEqualTo(live);
        assertThat((double) m.get("peakFootprintBytes")).as("committed and bookkeeping").isGreaterThan(committed);
        assertThat(utilization).isGreaterThan(0).isLessThanOrEqualTo(1);
        assertThat((double) m.get("externalFragmentation")).isBetween(0.0, 1.0);
        if (m.get("peakRssBytes") != null) {
            assertThat((double) m.get("peakRssBytes")).isNotNegative();
            if (m.get("firstRunRssBytes") != null) assertThat((double) m.get("firstRunRssBytes")).isNotNegative();
        }
    }
}
