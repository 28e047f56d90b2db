package org.malloc4j.cli.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the reader accepts, and what it computes from a trace. */
class TraceReaderTest {
    @TempDir
    Path dir;

    @Test
    void readsOpsAndComputesLiveBytes() throws Exception {
        Path f = write("ok.rep", "1000\n3\n7\n1\na 0 100\na 1 50\nr 0 300\nf 1\na 1 10\nf 0\na 2 0\n");
        Trace t = TraceReader.read(f);
        assertThat(t.name()).isEqualTo("ok");
        assertThat(t.size()).isEqualTo(7);
        assertThat(t.idSpan()).isEqualTo(3);
        assertThat(t.peakLiveBytes()).isEqualTo(350);
        assertThat(t.finalLiveBytes()).isEqualTo(10);
        assertThat(t.finalLiveBlocks()).isEqualTo(2);
        assertThat(t.kind(2)).isEqualTo(Trace.REALLOC);
        assertThat(t.id(2)).isZero();
        assertThat(t.size(2)).isEqualTo(300);
        assertThat(t.describe(3)).isEqualTo("f 1");
        assertThat(t.where(3)).isEqualTo("line 8");
    }

    @Test
    void acceptsCrlfTabsExtraBlanksAndTrailingBlankLines() throws Exception {
        Path f = write("crlf.rep", " 10 \r\n2\r\n2\r\n1\r\na\t0   8 \r\n  f 0\r\n\r\n\n   \n");
        Trace t = TraceReader.read(f);
        assertThat(t.size()).isEqualTo(2);
        assertThat(t.size(0)).isEqualTo(8);
    }

    @Test
    void acceptsALastLineWithoutNewline() throws Exception {
        assertThat(TraceReader.read(write("nonl.rep", "10\n1\n2\n1\na 0 8\nf 0")).size()).isEqualTo(2);
    }

    @Test
    void idsMayBeReused() throws Exception {
        Trace t = TraceReader.read(write("reuse.rep", "0\n1\n4\n1\na 0 8\nf 0\na 0 9\nf 0\n"));
        assertThat(t.finalLiveBlocks()).isZero();
    }

    @Test
    void reasonNamesFileAndLine() throws IOException {
        Path f = write("bad.rep", "10\n1\n1\n1\nz 0\n");
        assertThatThrownBy(() -> TraceReader.read(f)).isInstanceOfSatisfying(TraceException.class, e -> {
            assertThat(e.file()).isEqualTo(f.toString());
            assertThat(e.line()).isEqualTo(5);
            assertThat(e.reason()).isEqualTo("unknown op 'z' (expected a, f or r)");
            assertThat(e.getMessage()).isEqualTo(f + " line 5: unknown op 'z' (expected a, f or r)");
        });
    }

    @Test
    void directoryExpandsToSortedTraces() throws Exception {
        write("b.rep.gz", "");
        write("a.rep", "");
        write("c.txt", "");
        Files.createDirectory(dir.resolve("d.rep"));
        assertThat(TraceFiles.expand(List.of(dir))).containsExactly(dir.resolve("a.rep"), dir.resolve("b.rep.gz"));
        assertThat(TraceReader.traceName(Path.of("x/gcc-cc1.rep.gz"))).isEqualTo("gcc-cc1");
        assertThat(TraceReader.traceName(Path.of("y.rep"))).isEqualTo("y");
    }

    @Test
    void manyOpsParseQuicklyIntoCompactArrays() throws Exception {
        StringBuilder sb = new StringBuilder();
        int n = 1_000_000;
        sb.append(0).append('\n').append(1000).append('\n').append(n).append('\n').append(1).append('\n');
        for (int i = 0; i < n / 2; i++) {
            int id = i % 1000;
            sb.append("a ").append(id).append(' ').append(16 + i % 4000).append('\n');
            sb.append("f ").append(id).append('\n');
        }
        Trace t = TraceReader.read(write("big.rep", sb.toString()));
        assertThat(t.size()).isEqualTo(n);
        assertThat(t.idSpan()).isEqualTo(1000);
    }

    private Path write(String name, String content) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, content);
        return f;
    }
}
