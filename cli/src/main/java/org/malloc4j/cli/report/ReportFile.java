package org.malloc4j.cli.report;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Where a report page goes: checked before the work that fills it, and the reason it cannot be written, in words. */
public final class ReportFile {
    private ReportFile() {}

    /**
     * @return why {@code file} cannot be written (its directory missing or not writable, or it is a directory), or
     *         null when it looks writable; asked before a replay of minutes, so that a typo fails at once
     */
    public static String problem(Path file) {
        Path dir = file.toAbsolutePath().getParent();
        if (Files.isDirectory(file)) return "it is a directory";
        if (dir == null || !Files.isDirectory(dir)) return "no such directory: " + dir;
        if (!Files.isWritable(dir) && !Files.isWritable(file)) return "permission denied in " + dir;
        return null;
    }

    /** @return the reason in {@code e}, in words (the JDK's message for these is the path alone) */
    public static String reason(IOException e) {
        if (e instanceof NoSuchFileException) return "no such file or directory";
        if (e instanceof AccessDeniedException) return "permission denied";
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
