package org.malloc4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.malloc4j.anchors.Allocators;
import org.malloc4j.cli.replay.ReplayDriver;
import org.malloc4j.cli.replay.ReplayResult;
import org.malloc4j.cli.trace.Trace;
import org.malloc4j.cli.trace.TraceFiles;
import org.malloc4j.cli.trace.TraceReader;

/**
 * Every real-program trace in the project's shared folder ({@code shared/traces}, a sibling of the repository)
 * replays on malloc4j with no error. Skipped, saying so, where the folder is absent.
 */
class SharedTracesTest {
    @TestFactory
    Stream<DynamicTest> everySharedTraceReplaysWithoutErrorsOnMalloc4j() throws Exception {
        Path cwd = Path.of("").toAbsolutePath();
        Optional<Path> folder = findSharedTraces(cwd);
        if (folder.isEmpty()) {
            // One skipped test rather than an aborted factory, which the build's summary would count as no test at all.
            String why = "no shared/traces folder in " + cwd + " or above it: the real-program traces are skipped";
            System.err.println("SharedTracesTest: " + why);
            return Stream.of(DynamicTest.dynamicTest("shared traces", () -> Assumptions.abort(why)));
        }
        List<Path> files = TraceFiles.expand(List.of(folder.get()));
        assertThat(files).isNotEmpty();
        ReplayDriver driver = new ReplayDriver("malloc4j", () -> Allocators.open("malloc4j"), 1);
        return files.stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), () -> {
            Trace trace = TraceReader.read(f);
            ReplayResult r = driver.replay(trace);
            assertThat(r.firstErrors()).isEmpty();
            assertThat(r.errors()).isZero();
            assertThat(r.ops()).isEqualTo(trace.size());
            assertThat(r.peakCommittedBytes()).isGreaterThanOrEqualTo(trace.peakLiveBytes());
        }));
    }

    /** @return the first {@code shared/traces} folder holding a trace, in {@code start} or a folder above it */
    static Optional<Path> findSharedTraces(Path start) throws IOException {
        for (Path d = start; d != null; d = d.getParent()) {
            Path candidate = d.resolve("shared").resolve("traces");
            if (Files.isDirectory(candidate)) {
                try (Stream<Path> s = Files.list(candidate)) {
                    if (s.anyMatch(p -> TraceFiles.isTraceName(p.getFileName().toString()))) {
                        return Optional.of(candidate);
                    }
                }
            }
        }
        return Optional.empty();
    }
}
