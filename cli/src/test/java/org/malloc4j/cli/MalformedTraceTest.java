package org.malloc4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Bad input: every kind of malformed trace, missing files and bad options exit with 2 and one clear line. */
class MalformedTraceTest {
    @TempDir
    Path dir;

    /**
     * A file name with a newline in it (a name the file system takes) split the message naming it in two lines: the
     * one-line message of bad input is kept, the control character shown as its code, as in the reason.
     */
    @Test
    void aFileNameWithAControlCharacterKeepsTheMessageOnOneLine() throws Exception {
        Path bad = dir.resolve("bad\nname.rep");
        Files.writeString(bad, "100\n2\n1\n1\nx 0 10\n");
        Cli r = Cli.run("replay", bad.toString());
        assertThat(r.code()).isEqualTo(Main.BAD_INPUT);
        assertThat(r.errLines()).containsExactly("malloc4j replay: " + dir + "/bad\\x0aname.rep line 5: unknown op 'x'"
                + " (expected a, f or r)");

        Cli missing = Cli.run("replay", dir.resolve("gone\r.rep").toString());
        assertThat(missing.code()).isEqualTo(Main.BAD_INPUT);
        assertThat(missing.errLines()).containsExactly("malloc4j replay: " + dir + "/gone\\x0d.rep: no such file or"
                + " directory");
    }

    static Stream<Arguments> malformed() {
        return Stream.of(
                Arguments.of("unknown op", "100\n2\n1\n1\nx 0 10\n", 5, "unknown op 'x' (expected a, f or r)"),
                Arguments.of("unknown op word", "100\n2\n1\n1\nalloc 0 10\n", 5, "unknown op 'alloc'"),
                Arguments.of("missing field", "100\n2\n1\n1\na 0\n", 5, "missing field: expected 'a <id> <bytes>'"),
                Arguments.of("missing id", "100\n2\n1\n1\nf\n", 5, "missing field: expected 'f <id>'"),
                Arguments.of("extra field", "100\n2\n2\n1\na 0 8\nf 0 8\n", 6, "extra field '8': expected 'f <id>'"),
                Arguments.of("non-numeric size", "100\n2\n1\n1\na 0 12k\n", 5, "non-numeric size '12k'"),
                Arguments.of("negative size", "100\n2\n1\n1\na 0 -5\n", 5, "negative size -5"),
                Arguments.of("size too large", "100\n2\n1\n1\na 0 99999999999999999999\n", 5,
                        "size 99999999999999999999 is too large"),
                Arguments.of("non-numeric id", "100\n2\n1\n1\na one 5\n", 5, "non-numeric id 'one'"),
                Arguments.of("id out of range", "100\n2\n1\n1\na 2 5\n", 5, "id 2 out of range [0, 2)"),
                Arguments.of("negative id", "100\n2\n1\n1\na -1 5\n", 5, "id -1 out of range [0, 2)"),
                Arguments.of("free of a never-allocated id", "100\n2\n1\n1\nf 1\n", 5,
                        "free of id 1, which is not live (never allocated)"),
                Arguments.of("double free", "100\n2\n3\n1\na 0 8\nf 0\nf 0\n", 7,
                        "free of id 0, which is not live (freed at line 6)"),
                Arguments.of("realloc of a dead id", "100\n2\n1\n1\nr 1 10\n", 5,
                        "realloc of id 1, which is not live (never allocated)"),
                Arguments.of("realloc to 0 bytes", "100\n2\n2\n1\na 0 8\nr 0 0\n", 6, "realloc of id 0 to 0 bytes"),
                Arguments.of("alloc of a live id", "100\n2\n2\n1\na 0 8\na 0 16\n", 6,
                        "alloc of id 0, which is already live (allocated at line 5)"),
                Arguments.of("fewer ops than declared", "100\n2\n3\n1\na 0 8\nf 0\n", 7,
                        "the file ends after 2 ops, but the header declares 3"),
                Arguments.of("more ops than declared", "100\n2\n1\n1\na 0 8\nf 0\n", 6,
                        "more ops than the 1 the header declares"),
                Arguments.of("blank line between ops", "100\n2\n2\n1\na 0 8\n\nf 0\n", 6, "blank line between ops"),
                Arguments.of("short header", "100\n2\n", 3, "the file ends in the header, before the number of ops"),
                Arguments.of("empty file", "", 1, "the file ends in the header, before the suggested heap size"),
                Arguments.of("non-numeric header", "100\nmany\n1\n1\na 0 8\n", 2, "non-numeric number of ids 'many'"),
                Arguments.of("negative header", "100\n2\n-1\n1\n", 3, "negative number of ops '-1'"),
                Arguments.of("two numbers on a header line", "100 200\n2\n1\n1\na 0 8\n", 1,
                        "extra field '200' after the suggested heap size"),
                Arguments.of("line too long", "100\n2\n1\n1\na 0 " + "1".repeat(2000) + "\n", 5,
                        "line longer than 1024 bytes"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void malformedTraceIsBadInput(String what, String content, int line, String reason) throws IOException {
        Path file = dir.resolve("bad.rep");
        Files.writeString(file, content);
        assertBadInput(Cli.run("replay", file.toString()), file + " line " + line + ": " + reason);
    }

    @ParameterizedTest(name = "{0}, gzip-compressed")
    @MethodSource("malformed")
    void malformedGzipTraceIsBadInput(String what, String content, int line, String reason) throws IOException {
        Path file = dir.resolve("bad.rep.gz");
        Files.write(file, gzip(content.getBytes(StandardCharsets.US_ASCII)));
        assertBadInput(Cli.run("replay", file.toString()), file + " line " + line + ": " + reason);
    }

    @Test
    void truncatedGzipIsBadInput() throws IOException {
        StringBuilder sb = new StringBuilder("100\n1000\n2000\n1\n");
        for (int i = 0; i < 1000; i++) sb.append("a ").append(i).append(' ').append(16 + i).append('\n');
        for (int i = 0; i < 1000; i++) sb.append("f ").append(i).append('\n');
        byte[] whole = gzip(sb.toString().getBytes(StandardCharsets.US_ASCII));
        Path file = dir.resolve("cut.rep.gz");
        Files.write(file, Arrays.copyOf(whole, whole.length / 2));
        Cli r = Cli.run("replay", file.toString());
        assertBadInput(r, file + " line ");
        assertThat(r.err()).contains("truncated gzip data");
    }

    @Test
    void gzipHeaderCutShortIsBadInput() throws IOException {
        Path file = dir.resolve("tiny.rep.gz");
        Files.write(file, new byte[] {0x1f, (byte) 0x8b, 8});
        assertBadInput(Cli.run("replay", file.toString()), file + ": truncated gzip data");
    }

    @Test
    void notGzipIsBadInput() throws IOException {
        Path file = dir.resolve("plain.rep.gz");
        Files.writeString(file, "100\n2\n0\n1\n");
        assertBadInput(Cli.run("replay", file.toString()), file + ": not gzip data");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("appended")
    void gzipWithTrailingGarbageIsBadInput(String what, String junk, String reason) throws IOException {
        byte[] whole = gzip("100\n1\n2\n1\na 0 8\nf 0\n".getBytes(StandardCharsets.US_ASCII));
        byte[] bytes = Arrays.copyOf(whole, whole.length + junk.length());
        System.arraycopy(junk.getBytes(StandardCharsets.ISO_8859_1), 0, bytes, whole.length, junk.length());
        Path file = dir.resolve("appended.rep.gz");
        Files.write(file, bytes);
        assertBadInput(Cli.run("replay", file.toString()), file + reason.replace("END", "" + whole.length));
    }

    // GZIPInputStream read each of these files as the trace before the junk, without a word
    static Stream<Arguments> appended() {
        return Stream.of(
                Arguments.of("short junk", "junk\n", ": trailing garbage after the gzip data, at byte END"),
                Arguments.of("long junk", "x".repeat(100), ": trailing garbage after the gzip data, at byte END"),
                Arguments.of("one zero byte", "\0", ": trailing garbage after the gzip data, at byte END"),
                Arguments.of("a bad header after the member", "\u001f\u008b\u0007junk",
                        " line 7: corrupt gzip data (Unsupported compression method)"),
                Arguments.of("a header cut short", "\u001f\u008b\u0008",
                        " line 7: truncated gzip data"));
    }

    @Test
    void concatenatedGzipMembersAreOneTrace() throws IOException {
        Path file = dir.resolve("two-members.rep.gz");
        byte[] first = gzip("100\n1\n2\n1\na 0 8\n".getBytes(StandardCharsets.US_ASCII));
        byte[] second = gzip("f 0\n".getBytes(StandardCharsets.US_ASCII));
        byte[] both = Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, both, first.length, second.length);
        Files.write(file, both);
        Cli r = Cli.run("replay", "--no-rehearsal", file.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(Main.OK);
        assertThat(r.out()).contains("two-members");
    }

    @Test
    void missingFileIsBadInput() {
        Path file = dir.resolve("nowhere.rep");
        assertBadInput(Cli.run("replay", file.toString()), file + ": no such file or directory");
    }

    @Test
    void directoryWithoutTracesIsBadInput() {
        assertBadInput(Cli.run("replay", dir.toString()), dir + ": no *.rep or *.rep.gz file in this directory");
    }

    @Test
    void badTraceInADirectoryIsNamed() throws IOException {
        Files.writeString(dir.resolve("a-good.rep"), "100\n1\n2\n1\na 0 8\nf 0\n");
        Files.writeString(dir.resolve("b-bad.rep"), "100\n1\n2\n1\na 0 8\nq 0\n");
        Cli r = Cli.run("replay", dir.toString());
        assertThat(r.code()).isEqualTo(Main.BAD_INPUT);
        assertThat(r.errLines()).containsExactly("malloc4j replay: " + dir.resolve("b-bad.rep") + " line 6: "
                + "unknown op 'q' (expected a, f or r)");
        assertThat(r.out()).contains("a-good");
    }

    @Test
    void unknownOptionIsBadInput() {
        Cli r = Cli.run("replay", "--frobnicate");
        assertThat(r.code()).isEqualTo(Main.BAD_INPUT);
        assertThat(r.errLines()).singleElement().asString().contains("Unknown option: '--frobnicate'");
    }

    @Test
    void badNumberIsBadInput() {
        Cli r = Cli.run("replay", "--repeat", "many");
        assertThat(r.code()).isEqualTo(Main.BAD_INPUT);
        assertThat(r.errLines()).singleElement().asString().contains("--repeat");
    }

    @Test
    void repeatBelowOneIsBadInput() {
        Cli r = Cli.run("replay", "--repeat", "0");
        assertThat(r.code()).isEqualTo(Main.BAD_INPUT);
        assertThat(r.errLines()).containsExactly("malloc4j replay: --repeat must be at least 1, not 0");
    }

    @Test
    void unknownAllocatorIsBadInput() {
        Cli r = Cli.run("replay", "--allocator", "nosuch");
        assertThat(r.code()).isEqualTo(Main.BAD_INPUT);
        assertThat(r.errLines()).singleElement().asString().contains("unknown allocator 'nosuch'");
    }

    @Test
    void unknownWorkloadIsBadInput() {
        Cli r = Cli.run("replay", "-w", "nosuch");
        assertThat(r.code()).isEqualTo(Main.BAD_INPUT);
        assertThat(r.errLines()).containsExactly("malloc4j replay: unknown workload 'nosuch': expected one of ramp, "
                + "plateaus, short-lived, realloc-growth, fragmenting, large-mix");
    }

    @Test
    void missingCommandIsBadInput() {
        Cli r = Cli.run();
        assertThat(r.code()).isEqualTo(Main.BAD_INPUT);
        assertThat(r.errLines()).singleElement().asString().contains("missing command");
    }

    @Test
    void helpAndVersionExitZero() {
        Cli help = Cli.run("replay", "--help");
        assertThat(help.code()).isZero();
        assertThat(help.out()).contains("--allocator", "--json", "--repeat", "Exit codes");
        Cli version = Cli.run("--version");
        assertThat(version.code()).isZero();
        assertThat(version.out()).startsWith("malloc4j ");
    }

    private static void assertBadInput(Cli r, String expected) {
        assertThat(r.code()).as(r.err()).isEqualTo(Main.BAD_INPUT);
        assertThat(r.errLines()).as("stderr").hasSize(1);
        assertThat(r.errLines().getFirst()).startsWith("malloc4j replay: " + expected);
    }

    private static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(bytes)) {
            out.write(data);
        }
        return bytes.toByteArray();
    }
}
