package org.malloc4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.malloc4j.anchors.Allocators;
import org.malloc4j.cli.replay.ReplayDriver;
import org.malloc4j.cli.replay.ReplayResult;
import org.malloc4j.cli.trace.Trace;
import org.malloc4j.cli.workload.Workload;
import org.malloc4j.cli.workload.Workloads;

/** The bundled workloads: deterministic, of the intended shape, and replayed on malloc4j without an error. */
class BundledWorkloadsTest {
    @TestFactory
    Stream<DynamicTest> eachReplaysWithoutErrorsOnMalloc4j() {
        ReplayDriver driver = new ReplayDriver("malloc4j", () -> Allocators.open("malloc4j"), 1);
        return Workloads.all().stream().map(w -> DynamicTest.dynamicTest(w.name(), () -> {
            Trace trace = w.generate();
            assertThat(trace.size()).as("ops").isBetween(200_000, 500_000);
            ReplayResult r = driver.replay(trace);
            assertThat(r.firstErrors()).isEmpty();
            assertThat(r.errors()).isZero();
            assertThat(r.trace()).isEqualTo(w.name());
            assertThat(r.peakLiveBytes()).isGreaterThanOrEqualTo(trace.peakLiveBytes());
            assertThat(r.utilization()).isBetween(0.0, 1.0);
        }));
    }

    @Test
    void generationIsDeterministic() {
        for (Workload w : Workloads.all()) {
            assertThat(w.generate().sameOpsAs(w.generate())).as(w.name()).isTrue();
        }
    }

    @Test
    void namesAreUniqueAndKnown() {
        assertThat(Workloads.all()).extracting(Workload::name).doesNotHaveDuplicates()
                .containsExactly("ramp", "plateaus", "short-lived", "realloc-growth", "fragmenting", "large-mix");
        assertThat(Workloads.named("ramp")).isPresent();
        assertThat(Workloads.named("nope")).isEmpty();
    }

    @Test
    void workloadsHaveTheirCharacter() {
        Trace ramp = trace("ramp");
        assertThat(ramp.finalLiveBlocks()).as("ramp ends empty").isZero();

        Trace shortLived = trace("short-lived");
        assertThat(shortLived.finalLiveBlocks()).as("short-lived keeps its long-lived set").isEqualTo(20_000);
        assertThat(count(shortLived, Trace.ALLOC, 16, 256)).as("small allocations").isGreaterThan(140_000);

        Trace growth = trace("realloc-growth");
        assertThat(count(growth, Trace.REALLOC, 0, Long.MAX_VALUE)).as("reallocs").isGreaterThan(200_000);

        Trace large = trace("large-mix");
        long big = count(large, Trace.ALLOC, 1 << 20, 8 << 20);
        assertThat(big).as("1-8 MiB blocks").isBetween(100L, 1_000L);

        Trace fragmenting = trace("fragmenting");
        assertThat(fragmenting.peakLiveBytes()).isGreaterThan(16L << 20);
    }

    private static Trace trace(String name) {
        return Workloads.named(name).orElseThrow().generate();
    }

    private static long count(Trace t, int kind, long min, long max) {
        long n = 0;
        for (int i = 0; i < t.size(); i++) {
            if (t.kind(i) == kind && t.size(i) >= min && t.size(i) <= max) n++;
        }
        return n;
    }
}
