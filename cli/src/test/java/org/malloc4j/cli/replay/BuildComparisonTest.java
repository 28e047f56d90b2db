package org.malloc4j.cli.replay;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.malloc4j.Heap;

/** Two builds in one JVM: here the same build twice, each loaded by a class loader of its own. */
class BuildComparisonTest {
    @TempDir
    Path dir;

    @Test
    void replaysEachTraceOnBothBuildsAndPrintsTheMedians() throws Exception {
        Path trace = dir.resolve("mixed.rep");
        StringBuilder ops = new StringBuilder("0\n1000\n2500\n1\n");
        for (int i = 0; i < 1000; i++) ops.append("a ").append(i).append(' ').append(16 + i * 37 % 5000).append('\n');
        for (int i = 0; i < 1000; i += 2) ops.append("r ").append(i).append(' ').append(100 + i * 7).append('\n');
        for (int i = 0; i < 1000; i++) ops.append("f ").append(i).append('\n');
        Files.writeString(trace, ops);
        String core = Path.of(Heap.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(), errors = new ByteArrayOutputStream();
        int code = BuildComparison.run(new String[] {core, core, "2", trace.toString()}, new PrintStream(bytes, true,
                StandardCharsets.UTF_8), new PrintStream(errors, true, StandardCharsets.UTF_8));
        assertThat(code).as(errors.toString(StandardCharsets.UTF_8)).isZero();
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertThat(lines).filteredOn(l -> l.startsWith("warm-up  mixed")).hasSize(3);
        assertThat(lines).filteredOn(l -> l.matches("round [12] mixed .* B/A \\d+\\.\\d{3}")).hasSize(2);
        String summary = lines.stream().filter(l -> l.startsWith("mixed ") && l.contains("median")).findFirst()
                .orElseThrow();
        // The same build twice: the same deterministic layout, so the same peak committed bytes.
        String peaks = summary.substring(summary.indexOf("peak committed"));
        String[] f = peaks.replace(",", "").split("\\s+");
        assertThat(f[3]).isEqualTo(f[5]);
        assertThat(Long.parseLong(f[3])).isPositive();
    }

    @Test
    void badArgumentsAreNamed() throws Exception {
        ByteArrayOutputStream errors = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(errors, true, StandardCharsets.UTF_8);
        PrintStream out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        Path missing = dir.resolve("missing.jar");
        assertThat(BuildComparison.run(new String[] {"a"}, out, err)).isEqualTo(2);
        assertThat(BuildComparison.run(new String[] {missing.toString(), missing.toString(), "0", "t.rep"}, out, err))
                .isEqualTo(2);
        assertThat(BuildComparison.run(new String[] {missing.toString(), dir.toString(), "1", "t.rep"}, out, err))
                .isEqualTo(2);
        assertThat(errors.toString(StandardCharsets.UTF_8)).contains("usage: BuildComparison")
                .contains("ROUNDS must be a positive integer: 0")
                .contains("build A: no such jar or directory: " + missing);
    }

    @Test
    void eachBuildHasItsOwnHeapClasses() throws Exception {
        String core = Path.of(Heap.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        // Through the loader a build uses: a Heap class that is not this test's.
        ClassLoader loader = BuildComparison.loaderFor(Path.of(core));
        Class<?> heap = loader.loadClass("org.malloc4j.Heap");
        assertThat(heap).isNotSameAs(Heap.class);
        assertThat(loader.loadClass("org.malloc4j.anchors.Allocator"))
                .isSameAs(org.malloc4j.anchors.Allocator.class);
        assertThat(loader.loadClass("org.malloc4j.anchors.HeapAllocator"))
                .isNotSameAs(org.malloc4j.anchors.HeapAllocator.class);
    }
}
