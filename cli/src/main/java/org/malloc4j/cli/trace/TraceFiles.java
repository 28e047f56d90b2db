package org.malloc4j.cli.trace;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Turns the paths given on the command line into trace files: a directory stands for its traces. */
public final class TraceFiles {
    private TraceFiles() {}

    /** @return whether a file name looks like a trace: {@code *.rep} or {@code *.rep.gz} */
    public static boolean isTraceName(String name) {
        return name.endsWith(".rep") || name.endsWith(".rep.gz");
    }

    /**
     * Expands each argument: a file stays itself (whatever its name), a directory becomes its {@code *.rep} and
     * {@code *.rep.gz} files, sorted by name.
     *
     * @throws TraceException for an empty path, a path that does not exist, or a directory with no trace in it
     */
    public static List<Path> expand(List<Path> args) throws TraceException {
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            Path p = args.get(i);
            if (p.toString().isEmpty()) {
                // The file system takes the empty path for the current directory: an empty argument (an unset shell
                // variable) would replay the traces there, or fail with a message that names no file
                throw new TraceException("''", 0, "an empty trace path (TRACE " + (i + 1) + " of " + args.size()
                        + "): name a trace file or a directory, '.' for the current one");
            }
            if (Files.isDirectory(p)) {
                List<Path> found;
                try (Stream<Path> s = Files.list(p)) {
                    found = s.filter(f -> isTraceName(String.valueOf(f.getFileName())) && Files.isRegularFile(f))
                            .sorted()
                            .toList();
                } catch (java.nio.file.AccessDeniedException e) {
                    throw new TraceException(p.toString(), 0, "cannot list the directory: permission denied");
                } catch (IOException e) {
                    throw new TraceException(p.toString(), 0, "cannot list the directory: " + e.getMessage());
                }
                if (found.isEmpty()) throw new TraceException(p.toString(), 0, "no *.rep or *.rep.gz file in this "
                        + "directory");
                files.addAll(found);
            } else if (Files.notExists(p)) {
                throw new TraceException(p.toString(), 0, "no such file or directory");
            } else {
                files.add(p); // there, or not known (a directory on its path denies access): reading it says which
            }
        }
        return files;
    }
}
