package org.malloc4j.cli.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A report page is written whole or not at all: a write that fails midway leaves last run's page as it was. */
class ReportFileTest {
    @Test
    void aWriteThatFailsMidwayLeavesTheOldPageAndNoTemporaryFile(@TempDir Path dir) throws Exception {
        Path page = dir.resolve("report.html");
        Files.writeString(page, "<html>last run</html>");
        assertThatThrownBy(() -> ReportFile.replace(page, out -> {
            out.write("<html>half a page".repeat(100_000)); // past any buffer: bytes reached the disk
            throw new IOException("No space left on device");
        })).isInstanceOf(IOException.class).hasMessage("No space left on device");
        assertThat(Files.readString(page)).isEqualTo("<html>last run</html>");
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).containsExactly(page);
        }
    }

    @Test
    void aWriteThatSucceedsReplacesThePageAndLeavesNothingElse(@TempDir Path dir) throws Exception {
        Path page = dir.resolve("report.html");
        Files.writeString(page, "old");
        ReportFile.replace(page, out -> out.write("new page"));
        assertThat(Files.readString(page)).isEqualTo("new page");
        ReportFile.replace(dir.resolve("other.html"), out -> out.write("first"));
        Path plain = Files.writeString(dir.resolve("plain.txt"), "x");
        // The page's permissions are any new file's (the umask's), not a temporary file's private ones
        assertThat(Files.getPosixFilePermissions(dir.resolve("other.html")))
                .isEqualTo(Files.getPosixFilePermissions(plain));
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).containsExactlyInAnyOrder(page, dir.resolve("other.html"), plain);
        }
    }

    /**
     * {@code --report ""} was refused as "it is a directory" (the empty path is the current directory to the file
     * system), a reason that names nothing the user wrote.
     */
    @Test
    void anEmptyPathIsRefusedAsEmpty() {
        assertThat(ReportFile.problem(Path.of(""))).isEqualTo("an empty path ('') names no file");
    }
}
