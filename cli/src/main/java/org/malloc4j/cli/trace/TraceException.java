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
        this(file, line, printable(reason), true);
    }

    private TraceException(String file, long line, String reason, boolean printable) {
        // The file's name too: one with a newline in it (the file system takes it) split the message in two lines
        super((line > 0 ? printableName(file) + " line " + line : printableName(file)) + ": " + reason);
        this.file = file;
        this.line = line;
        this.reason = reason;
    }

    /**
     * @return {@code text} with each control character and each byte a line of binary data decodes to (a gzip file
     *         read as text) shown as a backslash, {@code x} and its hex code, so that the message stays one
     *         readable line
     */
    static String printable(String text) {
        StringBuilder b = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean plain = c >= 0x20 && c < 0x7f || Character.isLetterOrDigit(c);
            if (plain && b == null) continue;
            if (b == null) b = new StringBuilder(text.length() + 16).append(text, 0, i);
            if (plain) b.append(c);
            else if (c < 0x100) b.append(String.format("\\x%02x", (int) c));
            else b.append(String.format("\\x{%04x}", (int) c));
        }
        return b == null ? text : b.toString();
    }

    /**
     * @return {@code name} with each control character (and line or paragraph separator) shown as {@link #printable}
     *         shows it; other characters, any script's, as they are (trace names in the table, the JSON lines and the
     *         page are made so too: a file name with a newline split the table's row)
     */
    public static String printableName(String name) {
        StringBuilder b = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (Character.isISOControl(c) || c == 0x2028 || c == 0x2029) b.append(printable(String.valueOf(c)));
            else b.append(c);
        }
        return b.toString();
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
