package org.malloc4j.cli.trace;

/**
 * Bad input: a trace that cannot be read or is malformed. The message names the file, the line (when there is
 * one) and the reason, on one line: {@code traces/x.rep line 7: unknown op 'q' (expected a, f or r)}.
 */
public final class TraceException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String file;
    private final long line;
    private final String reason;

    /**
     * @param file the file as the user named it
     * @param line the 1-based line the problem is on, or 0 when it concerns the whole file
     * @param reason what is wrong, without the file and line
     */
    public TraceException(String file, long line, String reason) {
        super(line > 0 ? file + " line " + line + ": " + reason : file + ": " + reason);
        this.file = file;
        this.line = line;
        this.reason = reason;
    }

    /** @return the file as the user named it */
    public String file() {
        return file;
    }

    /** @return the 1-based line of the problem, or 0 when it concerns the whole file */
    public long line() {
        return line;
    }

    /** @return what is wrong, without the file and line */
    public String reason() {
        return reason;
    }
}
