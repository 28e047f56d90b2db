package org.malloc4j.cli.trace;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.ZipException;

/**
 * Reads a CS:APP malloc-lab trace, plain ({@code .rep}) or gzip-compressed ({@code .rep.gz}), streaming it
 * line by line into a {@link Trace}, and rejects malformed input with the file, the line and the reason.
 *
 * <p>The format: four header lines (suggested heap size, number of ids, number of ops, weight: one
 * non-negative integer each), then one op a line: {@code a <id> <bytes>}, {@code f <id>}, {@code r <id> <bytes>}.
 * Fields are separated by blanks; blank lines are allowed only at the end of the file.
 */
public final class TraceReader {
    private static final String[] HEADER = {"suggested heap size", "number of ids", "number of ops", "weight"};
    private static final String HEADER_FORMAT =
            "the header is 4 lines: suggested heap size, number of ids, number of ops, weight";

    private final String file;
    private final LineScanner in;
    private final String traceName;

    private TraceReader(String file, InputStream in, String traceName) {
        this.file = file;
        this.in = new LineScanner(in);
        this.traceName = traceName;
    }

    /**
     * Reads a trace file; a name ending in {@code .gz} is read through gzip (concatenated members allowed, and
     * nothing after the last one), and gzip data under another name is refused as such.
     *
     * @throws TraceException if the file cannot be read or is malformed
     */
    public static Trace read(Path path) throws TraceException {
        return read(path, traceName(path));
    }

    /**
     * As {@link #read(Path)}, the trace named {@code name} in reports (two files of one name in different folders
     * are told apart by the caller).
     */
    public static Trace read(Path path, String name) throws TraceException {
        String file = path.toString();
        boolean gzip = file.endsWith(".gz");
        try (InputStream raw = Files.newInputStream(path)) {
            if (!gzip) {
                // A .rep.gz saved under a plain name read as text: its binary bytes made line 1 an "extra field" or a
                // line too long, and the message never said the file is compressed (no text trace starts this way)
                PushbackInputStream text = new PushbackInputStream(raw, 2);
                byte[] magic = text.readNBytes(2);
                if (magic.length == 2 && magic[0] == (byte) 0x1f && magic[1] == (byte) 0x8b) {
                    Path fn = path.getFileName();
                    throw new TraceException(file, 0, "gzip-compressed data in a file whose name does not end in .gz:"
                            + " name it " + (fn == null ? file : fn) + ".gz, or decompress it");
                }
                text.unread(magic);
                return new TraceReader(file, text, name).parse();
            }
            InputStream unzipped;
            try {
                unzipped = new StrictGzipInputStream(raw);
            } catch (EOFException e) {
                throw new TraceException(file, 0, "truncated gzip data (the gzip header is incomplete)");
            } catch (ZipException e) {
                throw new TraceException(file, 0, "not gzip data (" + e.getMessage() + ")");
            }
            return new TraceReader(file, unzipped, name).parse();
        } catch (NoSuchFileException e) {
            throw new TraceException(file, 0, "no such file");
        } catch (AccessDeniedException e) {
            throw new TraceException(file, 0, "permission denied");
        } catch (IOException e) {
            if (Files.isDirectory(path)) throw new TraceException(file, 0, "is a directory");
            throw new TraceException(file, 0, "cannot read: " + e);
        }
    }

    /** @return the name a trace file gets in reports: its file name without {@code .gz} and {@code .rep} */
    public static String traceName(Path path) {
        Path fn = path.getFileName();
        String n = fn == null ? path.toString() : fn.toString();
        if (n.endsWith(".gz")) n = n.substring(0, n.length() - 3);
        if (n.endsWith(".rep")) n = n.substring(0, n.length() - 4);
        return n.isEmpty() ? path.toString() : n;
    }

    /** How many more ids than ops a header may declare (ids need not be dense, but their slots must fit). */
    static final long SPARE_IDS = 1_000_000;

    private Trace parse() throws TraceException, IOException {
        try {
            return parseLines();
        } catch (EOFException e) {
            throw fail(in.lineNumber() + 1, "truncated gzip data (the compressed stream ends early)");
        } catch (StrictGzipInputStream.TrailingGarbageException e) {
            throw fail(0, e.getMessage());
        } catch (ZipException e) {
            throw fail(in.lineNumber() + 1, "corrupt gzip data (" + e.getMessage() + ")");
        }
    }

    private Trace parseLines() throws TraceException, IOException {
        long[] header = new long[HEADER.length];
        for (int h = 0; h < HEADER.length; h++) {
            if (!in.next()) {
                throw fail(in.lineNumber() + 1, "the file ends in the header, before the " + HEADER[h] + " ("
                        + HEADER_FORMAT + ")");
            }
            header[h] = headerValue(HEADER[h]);
        }
        long ids = header[1];
        long declaredOps = header[2];
        if (ids > Trace.MAX_IDS) throw fail(2, "number of ids " + ids + " is more than the " + Trace.MAX_IDS
                + " supported");
        if (declaredOps > Trace.MAX_OPS) throw fail(3, "number of ops " + declaredOps + " is more than the "
                + Trace.MAX_OPS + " supported");
        // Each id is allocated by an op, and the replay keeps a slot per id up to the highest: a header that declares
        // far more ids than ops (a billion ids for two ops) would fill the JVM's memory with empty slots
        if (ids > declaredOps + SPARE_IDS) {
            throw fail(2, "number of ids " + ids + " is more than the number of ops (" + declaredOps + ", line 3) and "
                    + SPARE_IDS + " more: every id is allocated by an op, and the replay keeps a slot for each id up"
                    + " to the highest; number the blocks from 0");
        }

        TraceBuilder trace = new TraceBuilder(traceName, ids, declaredOps, HEADER.length + 1);
        long blankLine = 0;
        while (in.next()) {
            long line = in.lineNumber();
            if (in.tooLong()) throw fail(line, "line longer than " + LineScanner.MAX_LINE + " bytes");
            if (in.tokens() == 0) {
                if (blankLine == 0) blankLine = line;
                continue;
            }
            if (blankLine != 0) throw fail(blankLine, "blank line between ops");
            if (trace.count() == declaredOps) {
                throw fail(line, "more ops than the " + declaredOps + " the header declares (line 3)");
            }
            op(trace, line, ids);
        }
        if (trace.count() < declaredOps) {
            throw fail(in.lineNumber() + 1, "the file ends after " + trace.count() + " ops, but the header "
                    + "declares " + declaredOps + " (line 3)");
        }
        return trace.build();
    }

    private long headerValue(String what) throws TraceException {
        long line = in.lineNumber();
        if (in.tooLong()) throw fail(line, "line longer than " + LineScanner.MAX_LINE + " bytes");
        if (in.tokens() == 0) throw fail(line, "blank line in the header, where the " + what + " belongs ("
                + HEADER_FORMAT + ")");
        if (in.tokens() > 1) throw fail(line, "extra field '" + in.token(1) + "' after the " + what + " ("
                + HEADER_FORMAT + ")");
        long v = in.number(0);
        if (v == LineScanner.TOO_LARGE) throw fail(line, what + " " + in.token(0) + " is too large");
        if (v < 0) {
            throw fail(line, (in.isNegativeNumber(0) ? "negative " : "non-numeric ") + what + " '" + in.token(0)
                    + "' (" + HEADER_FORMAT + ")");
        }
        return v;
    }

    private void op(TraceBuilder trace, long line, long ids) throws TraceException {
        String usage;
        int want;
        if (in.isChar(0, 'a')) {
            usage = "'a <id> <bytes>'";
            want = 3;
        } else if (in.isChar(0, 'f')) {
            usage = "'f <id>'";
            want = 2;
        } else if (in.isChar(0, 'r')) {
            usage = "'r <id> <bytes>'";
            want = 3;
        } else {
            throw fail(line, "unknown op '" + in.token(0) + "' (expected a, f or r)");
        }
        if (in.tokens() < want) throw fail(line, "missing field: expected " + usage);
        if (in.tokens() > want) throw fail(line, "extra field '" + in.token(want) + "': expected " + usage);

        long id = in.number(1);
        if (id == LineScanner.NOT_A_NUMBER && !in.isNegativeNumber(1)) {
            throw fail(line, "non-numeric id '" + in.token(1) + "'");
        }
        if (id < 0 || id >= ids) {
            throw fail(line, "id " + in.token(1) + " out of range [0, " + ids + ") (the header's number of ids)");
        }
        // The header's counts are checked against the file only at its end; until then an id is bounded by the ops
        // read so far, since the replay keeps a slot for every id up to the highest (a header declaring two billion
        // ops let a one-op file ask for arrays of 12 GB, and the JVM ran out of memory)
        if (id > trace.count() + SPARE_IDS) {
            throw fail(line, "id " + id + " is more than the " + trace.count() + " ops before it and " + SPARE_IDS
                    + " more: every id is allocated by an op, and the replay keeps a slot for each id up to the"
                    + " highest; number the blocks from 0");
        }
        long size = 0;
        if (want == 3) {
            size = in.number(2);
            if (size == LineScanner.TOO_LARGE) throw fail(line, "size " + in.token(2) + " is too large");
            if (size < 0) {
                throw fail(line, in.isNegativeNumber(2) ? "negative size " + in.token(2)
                        : "non-numeric size '" + in.token(2) + "'");
            }
        }
        try {
            if (in.isChar(0, 'a')) trace.alloc((int) id, size);
            else if (in.isChar(0, 'f')) trace.free((int) id);
            else trace.realloc((int) id, size);
        } catch (IllegalArgumentException e) {
            throw fail(line, e.getMessage());
        }
    }

    private TraceException fail(long line, String reason) {
        return new TraceException(file, line, reason);
    }
}
