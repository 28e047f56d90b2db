package org.malloc4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code replay --leaks}: the blocks a trace leaves live, totals and size groups, in the table and in JSON. */
class ReplayLeaksTest {
    /**
     * Leaves 9 blocks live, 9,719 B: three in (2 KiB, 4 KiB] (9,596 B), five in (16 B, 32 B] (123 B: more blocks,
     * fewer bytes, so listed second; id 11 is allocated first, id 1 is resized by a realloc, id 10 is the latest
     * and not among the three examples), one of 0 B in [0, 16 B]. Ops start at line 5.
     */
    private static final String LEAKY = """
            0
            12
            16
            1
            a 11 20
            a 0 100
            a 1 20
            a 2 3000
            a 3 24
            f 0
            a 4 4096
            a 5 8
            r 1 30
            a 6 2500
            f 5
            a 7 0
            a 8 40
            f 8
            a 9 32
            a 10 17
            """;

    private static final String CLEAN = """
            0
            3
            7
            1
            a 0 10
            a 1 5000
            r 0 70
            f 1
            a 2 1
            f 0
            f 2
            """;

    @TempDir
    Path dir;

    @Test
    void tableListsTotalsAndGroupsLargestFirst() throws IOException {
        Cli r = Cli.run("replay", "--leaks", write("leaky", LEAKY).toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        List<String> lines = r.outLines().stream().map(l -> l.strip().replaceAll(" {2,}", "  ")).toList();
        int head = lines.indexOf("leaks in leaky: 9 blocks, 9.5 KiB (9,719 B) live at the end of the trace"
                + " (malloc4j counts 9)");
        assertThat(head).as(r.out()).isPositive();
        assertThat(lines.subList(head + 1, lines.size())).containsExactly(
                "size  blocks  bytes  earliest allocated (id at the op that allocated it: size now)",
                "(2 KiB, 4 KiB]  3  9.4 KiB  id 2 at line 8 (op 4): 3000 B; id 4 at line 11 (op 7): 4096 B;"
                        + " id 6 at line 14 (op 10): 2500 B",
                "(16 B, 32 B]  5  123 B  id 11 at line 5 (op 1): 20 B; id 1 at line 7 (op 3), resized at line 13"
                        + " (op 9): 30 B; id 3 at line 9 (op 5): 24 B; ...",
                "[0, 16 B]  1  0 B  id 7 at line 16 (op 12): 0 B");
        // the table itself is whole: the leak report comes after the legend
        assertThat(r.out().indexOf("leaks in leaky")).isGreaterThan(r.out().indexOf("peak RSS: rise"));
    }

    @Test
    void jsonHasTheSameUnderLeaks() throws IOException {
        Cli r = Cli.run("replay", "--leaks", "--json", write("leaky", LEAKY).toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.outLines()).hasSize(1);
        Map<String, Object> m = Json.object(r.outLines().getFirst());
        assertThat(m).containsEntry("trace", "leaky").containsEntry("errors", 0.0);
        assertThat(m.keySet()).last().isEqualTo("leaks");
        Map<String, Object> leaks = map(m.get("leaks"));
        assertThat(leaks).containsEntry("blocks", 9.0).containsEntry("bytes", 9719.0)
                .containsEntry("heapLiveBlocks", 9.0).containsEntry("moreGroups", 0.0)
                .containsEntry("moreBlocks", 0.0).containsEntry("moreBytes", 0.0);
        List<Map<String, Object>> groups = list(leaks.get("groups"));
        assertThat(groups).hasSize(3);

        assertGroup(groups.get(0), "(2 KiB, 4 KiB]", 2049, 4096, 3, 9596);
        assertThat(list(groups.get(0).get("examples"))).containsExactly(
                example(2, 4, 8, null, null, 3000), example(4, 7, 11, null, null, 4096),
                example(6, 10, 14, null, null, 2500));

        assertGroup(groups.get(1), "(16 B, 32 B]", 17, 32, 5, 123);
        assertThat(list(groups.get(1).get("examples"))).containsExactly(
                example(11, 1, 5, null, null, 20), example(1, 3, 7, 9.0, 13.0, 30),
                example(3, 5, 9, null, null, 24));

        assertGroup(groups.get(2), "[0, 16 B]", 0, 16, 1, 0);
        assertThat(list(groups.get(2).get("examples"))).containsExactly(example(7, 12, 16, null, null, 0));
    }

    @Test
    void nativeAllocatorHasNoHeapCount() throws IOException {
        Cli r = Cli.run("replay", "--leaks", "--json", "--allocator", "glibc", write("leaky", LEAKY).toString());
        assertThat(r.code()).as(r.err()).isZero();
        Map<String, Object> leaks = map(Json.object(r.outLines().getFirst()).get("leaks"));
        assertThat(leaks).containsEntry("blocks", 9.0).containsEntry("bytes", 9719.0)
                .containsEntry("heapLiveBlocks", null);
        assertThat(list(leaks.get("groups"))).hasSize(3);
    }

    @Test
    void noLeakIsOneLine() throws IOException {
        Path clean = write("clean", CLEAN);
        Cli r = Cli.run("replay", "--leaks", clean.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.outLines()).last()
                .isEqualTo("leaks in clean: none, every block is freed by the end of the trace");
        assertThat(r.outLines().stream().filter(l -> l.contains("leaks in"))).hasSize(1);

        Cli j = Cli.run("replay", "--leaks", "--json", clean.toString());
        assertThat(j.code()).as(j.err()).isZero();
        Map<String, Object> leaks = map(Json.object(j.outLines().getFirst()).get("leaks"));
        assertThat(leaks).containsEntry("blocks", 0.0).containsEntry("bytes", 0.0)
                .containsEntry("heapLiveBlocks", 0.0).containsEntry("groups", List.of())
                .containsEntry("moreGroups", 0.0);
    }

    @Test
    void withoutLeaksNothingChanges() throws IOException {
        Path leaky = write("leaky", LEAKY);
        Cli r = Cli.run("replay", leaky.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).doesNotContain("leaks in");
        Cli j = Cli.run("replay", "--json", leaky.toString());
        assertThat(Json.object(j.outLines().getFirst())).doesNotContainKey("leaks");
    }

    @Test
    void bundledWorkloadSitesAreOps() {
        Cli r = Cli.run("replay", "--leaks", "--json", "-w", "plateaus");
        assertThat(r.code()).as(r.err()).isZero();
        Map<String, Object> leaks = map(Json.object(r.outLines().getFirst()).get("leaks"));
        double blocks = (double) leaks.get("blocks");
        assertThat(blocks).isPositive().isEqualTo(leaks.get("heapLiveBlocks"));
        List<Map<String, Object>> groups = list(leaks.get("groups"));
        assertThat(groups).isNotEmpty();
        double listed = (double) leaks.get("moreBlocks");
        for (Map<String, Object> g : groups) {
            listed += (double) g.get("blocks");
            for (Map<String, Object> e : list(g.get("examples"))) {
                assertThat(e.get("line")).isNull();
                assertThat((double) e.get("op")).isPositive();
                assertThat((double) e.get("size")).isBetween((double) g.get("minSize"), (double) g.get("maxSize"));
            }
        }
        assertThat(listed).isEqualTo(blocks);
        for (int g = 1; g < groups.size(); g++) {
            assertThat((double) groups.get(g).get("bytes")).isLessThanOrEqualTo((double) groups.get(g - 1)
                    .get("bytes"));
        }
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name + ".rep"), text);
    }

    private static void assertGroup(Map<String, Object> g, String label, long min, long max, long blocks,
            long bytes) {
        assertThat(g).containsEntry("label", label).containsEntry("minSize", (double) min)
                .containsEntry("maxSize", (double) max).containsEntry("blocks", (double) blocks)
                .containsEntry("bytes", (double) bytes);
    }

    /**
     * A malformed trace after one that was replayed: the table's leak reports come after its legend, at its end, and
     * the replay stopped before the end, so the report of the trace replayed was lost (the JSON lines had theirs).
     */
    @Test
    void theLeaksOfTheTracesReplayedBeforeAMalformedOneAreListed() throws Exception {
        Path leaky = dir.resolve("a-leaky.rep"), bad = dir.resolve("b-bad.rep");
        Files.writeString(leaky, LEAKY);
        Files.writeString(bad, "0\n1\n2\n1\na 0 8\nq 0\n");
        Cli r = Cli.run("replay", "--leaks", "--no-rehearsal", leaky.toString(), bad.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(Main.BAD_INPUT);
        assertThat(r.out()).contains("leaks in a-leaky: 9 blocks, 9.5 KiB (9,719 B) live at the end of the trace",
                "utilization: peak live / peak committed bytes");
        assertThat(r.errLines()).containsExactly("malloc4j replay: " + bad + " line 6: unknown op 'q' (expected a, f"
                + " or r)");
    }

    private static Map<String, Object> example(int id, int op, int line, Double reallocOp, Double reallocLine,
            long size) {
        Map<String, Object> m = new HashMap<>();
        m.put("id", (double) id);
        m.put("op", (double) op);
        m.put("line", (double) line);
        m.put("reallocOp", reallocOp);
        m.put("reallocLine", reallocLine);
        m.put("size", (double) size);
        return m;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        assertThat(o).isInstanceOf(Map.class);
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> list(Object o) {
        assertThat(o).isInstanceOf(List.class);
        return (List<Map<String, Object>>) o;
    }
}
