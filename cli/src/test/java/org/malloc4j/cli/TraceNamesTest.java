package org.malloc4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.malloc4j.cli.trace.TraceWriter;

/**
 * Traces of one file name in different folders (a/gcc.rep, b/gcc.rep) were all called "gcc" in the table, the JSON
 * lines and the page: their figures could not be told apart. Each gets the shortest part of its path that no other
 * trace of the replay shares.
 */
class TraceNamesTest {
    private static final String TRACE = "100\n1\n2\n1\na 0 8\nf 0\n";

    @TempDir
    Path dir;

    @Test
    void tracesOfOneFileNameInDifferentFoldersHaveDistinctNamesInTableJsonAndPage() throws Exception {
        Path a = write("a/gcc.rep"), b = write("b/gcc.rep");
        Path page = dir.resolve("page.html");

        Cli json = Cli.run("replay", "--json", "--no-rehearsal", a.toString(), b.toString(), "--report",
                page.toString());
        assertThat(json.code()).as(json.err()).isZero();
        assertThat(json.outLines()).extracting(l -> Json.object(l).get("trace")).containsExactly("a/gcc", "b/gcc");
        assertThat(Files.readString(page)).contains("Timeline a/gcc<", "Timeline b/gcc<", "a/gcc: end",
                "b/gcc: end");

        Cli table = Cli.run("replay", "--no-rehearsal", a.toString(), b.toString());
        assertThat(table.code()).as(table.err()).isZero();
        assertThat(table.outLines()).anyMatch(l -> l.startsWith("a/gcc ")).anyMatch(l -> l.startsWith("b/gcc "));
    }

    @Test
    void namesTakeOnlyTheFoldersThatTellTracesApart() throws Exception {
        Path xa = write("x/a/gcc.rep"), ya = write("y/a/gcc.rep"), zb = write("z/b/gcc.rep");
        Path perl = write("x/a/perl.rep");
        Path plain = write("c/gcc.rep"), gzip = write("c/gcc.rep.gz");
        assertThat(names(xa, ya, zb, perl)).containsExactly("x/a/gcc", "y/a/gcc", "b/gcc", "perl");
        assertThat(names(plain, gzip, zb)).containsExactly("c/gcc.rep", "c/gcc.rep.gz", "b/gcc");
        // One file named twice, however spelled, is one trace: its name stays short
        assertThat(names(xa, dir.resolve("x/a/../a/gcc.rep"))).containsExactly("gcc", "gcc");
        // A file named as a bundled workload is told apart from it
        Path ramp = write("w/ramp.rep");
        assertThat(TraceSource.resolve(List.of(ramp), List.of("ramp")).stream().map(TraceSource::name))
                .containsExactly("w/ramp", "ramp");
    }

    @Test
    void aLoadedTraceHasItsDistinctName() throws Exception {
        Path a = write("a/gcc.rep"), b = write("b/gcc.rep");
        assertThat(TraceSource.resolve(List.of(a, b), List.of()).stream().map(s -> {
            try {
                return s.load().name();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        })).containsExactly("a/gcc", "b/gcc");
    }

    /** A file name may hold a newline: the table's row, and the JSON line's name, stay one line, the newline shown. */
    @Test
    void aNameWithAControlCharacterStaysOnOneLine() throws Exception {
        Path odd = write("odd\nname.rep");
        Cli table = Cli.run("replay", "--no-rehearsal", odd.toString());
        assertThat(table.code()).as(table.err()).isZero();
        assertThat(table.outLines()).anyMatch(l -> l.startsWith("odd\\x0aname ")).noneMatch(l -> l.startsWith("name "));
        Cli json = Cli.run("replay", "--json", "--no-rehearsal", odd.toString());
        assertThat(json.outLines()).extracting(l -> Json.object(l).get("trace")).containsExactly("odd\\x0aname");
    }

    private List<String> names(Path... files) {
        return TraceSource.resolve(List.of(files), List.of()).stream().map(TraceSource::name).toList();
    }

    private Path write(String name) throws Exception {
        Path p = dir.resolve(name);
        Files.createDirectories(p.getParent());
        if (name.endsWith(".gz")) {
            TraceWriter.write(TestTraces.mixed("t", 10, 1), p);
        } else {
            Files.writeString(p, TRACE);
        }
        return p;
    }
}
