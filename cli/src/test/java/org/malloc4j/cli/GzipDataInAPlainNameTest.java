package org.malloc4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gzip-compressed trace whose name does not end in {@code .gz} (a {@code .rep.gz} saved as {@code .rep}) was read as
 * text: the message was about an "extra field" of binary bytes on line 1, or a line too long, never that the file is
 * compressed.
 */
class GzipDataInAPlainNameTest {
    @TempDir
    Path dir;

    @Test
    void aCompressedTraceNamedRepIsBadInputThatSaysItIsGzip() throws Exception {
        Path file = dir.resolve("small.rep");
        Files.write(file, gzip("100\n1\n2\n1\na 0 8\nf 0\n"));
        Cli r = Cli.run("replay", "--no-rehearsal", file.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(Main.BAD_INPUT);
        assertThat(r.errLines()).containsExactly("malloc4j replay: " + file + ": gzip-compressed data in a file whose"
                + " name does not end in .gz: name it " + file.getFileName() + ".gz, or decompress it");
    }

    @Test
    void aPlainTraceStillReads() throws Exception {
        Path file = dir.resolve("plain.rep");
        Files.writeString(file, "100\n1\n2\n1\na 0 8\nf 0\n");
        Cli r = Cli.run("replay", "--no-rehearsal", "--json", file.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("\"trace\":\"plain\"");
    }

    private static byte[] gzip(String text) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(bytes)) {
            out.write(text.getBytes(StandardCharsets.US_ASCII));
        }
        return bytes.toByteArray();
    }
}
