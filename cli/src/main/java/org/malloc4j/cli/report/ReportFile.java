package org.malloc4j.cli.report;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Where a report page goes: checked before the work that fills it, written whole or not at all, and the reason it
 * cannot be written, in words.
 */
public final class ReportFile {
    private ReportFile() {}

    /** What writes a page's text. */
    @FunctionalInterface
    public interface Content {
        void writeTo(Writer out) throws IOException;
    }

    /**
     * Writes {@code content} to {@code file} whole or not at all: into a temporary file beside it, then moved over it
     * (atomically where the file system can). A write that fails midway (a full disk, a writer that throws) leaves
     * no half-written page behind, and a page already at {@code file} (last run's) as it was.
     *
     * @throws IOException what stopped the write, after the temporary file is deleted
     */
    public static void replace(Path file, Content content) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        // Not Files.createTempFile: its files are private (0600), and the page is a file like any other (the umask's)
        // Not the page's name with a suffix either: a name near the file system's limit (255 bytes) would be too long
        Path tmp = dir.resolve(".malloc4j-report-" + Long.toHexString(System.nanoTime()) + ".tmp");
        Writer opened = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE);
        boolean moved = false;
        try {
            try (Writer out = opened) {
                content.writeTo(out);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            moved = true;
        } finally {
            if (!moved) Files.deleteIfExists(tmp);
        }
    }

    /**
     * @return why {@code file} cannot be written (it is empty, its directory missing or not writable, or it is a
     *         directory), or null when it looks writable; asked before a replay of minutes, so that a typo fails at
     *         once
     */
    public static String problem(Path file) {
        // The file system takes the empty path for the current directory: "it is a directory" would name nothing
        // the user wrote
        if (file.toString().isEmpty()) return "an empty path ('') names no file";
        Path dir = file.toAbsolutePath().getParent();
        if (Files.isDirectory(file)) return "it is a directory";
        if (dir == null || !Files.isDirectory(dir)) return "no such directory: " + dir;
        // The page is written beside the file first, then moved over it (see replace): the directory must be writable
        if (!Files.isWritable(dir)) return "permission denied in " + dir;
        return null;
    }

    /**
     * @return the first of {@code inputs} that is the same file as {@code file} (so that writing the page would
     *         replace it), or null when none is, or {@code file} does not exist yet
     */
    public static Path sameFileAs(Path file, List<Path> inputs) {
        if (!Files.exists(file)) return null;
        for (Path in : inputs) {
            try {
                if (Files.isSameFile(file, in)) return in;
            } catch (IOException e) {
                // unreadable: reading it says why
            }
        }
        return null;
    }

    /** @return the reason in {@code e}, in words (the JDK's message for these is the path alone) */
    public static String reason(IOException e) {
        if (e instanceof NoSuchFileException) return "no such file or directory";
        if (e instanceof AccessDeniedException) return "permission denied";
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
