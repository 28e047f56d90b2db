package org.malloc4j.cli.trace;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Reads a text stream line by line and splits each line into whitespace-separated tokens, straight from bytes:
 * no {@code String} per line, so that millions of lines parse in a second or so. Lines end with {@code \n} or
 * {@code \r\n}; a line longer than {@link #MAX_LINE} bytes is flagged instead of buffered.
 */
final class LineScanner {
    /** The longest line kept; a trace line is a few dozen bytes. */
    static final int MAX_LINE = 1024;
    /** Returned by {@link #number} for a token that is not a non-negative decimal integer. */
    static final long NOT_A_NUMBER = -1;
    /** Returned by {@link #number} for a decimal integer too large for a {@code long}. */
    static final long TOO_LARGE = -2;

    private static final int MAX_TOKENS = 8;

    private final InputStream in;
    private final byte[] buf = new byte[1 << 16];
    private int pos;
    private int lim;

    private final byte[] line = new byte[MAX_LINE];
    private int len;
    private boolean tooLong;
    private long lineNumber;

    private final int[] start = new int[MAX_TOKENS];
    private final int[] end = new int[MAX_TOKENS];
    private int tokens;

    LineScanner(InputStream in) {
        this.in = in;
    }

    /**
     * Moves to the next line.
     *
     * @return false at the end of the stream (a last line without a newline still counts as a line)
     */
    boolean next() throws IOException {
        len = 0;
        tooLong = false;
        boolean any = false;
        while (true) {
            if (pos == lim) {
                lim = in.read(buf, 0, buf.length);
                pos = 0;
                if (lim <= 0) {
                    lim = 0;
                    if (!any) return false;
                    break;
                }
            }
            byte b = buf[pos++];
            any = true;
            if (b == '\n') break;
            if (len < MAX_LINE) {
                line[len++] = b;
            } else {
                tooLong = true;
            }
        }
        if (len > 0 && line[len - 1] == '\r') len--;
        lineNumber++;
        tokenize();
        return true;
    }

    private void tokenize() {
        tokens = 0;
        int i = 0;
        while (i < len) {
            while (i < len && isSpace(line[i])) i++;
            if (i == len) break;
            int s = i;
            while (i < len && !isSpace(line[i])) i++;
            if (tokens < MAX_TOKENS) {
                start[tokens] = s;
                end[tokens] = i;
            }
            tokens++;
        }
    }

    private static boolean isSpace(byte b) {
        return b == ' ' || b == '\t' || b == '\r' || b == '\f' || b == 0x0B;
    }

    /** @return the 1-based number of the current line (0 before the first) */
    long lineNumber() {
        return lineNumber;
    }

    /** @return whether the current line was longer than {@link #MAX_LINE} bytes */
    boolean tooLong() {
        return tooLong;
    }

    /** @return the number of tokens on the current line */
    int tokens() {
        return tokens;
    }

    /** @return token {@code i} as text (for messages), cut to 40 characters */
    String token(int i) {
        int n = Math.min(end[i] - start[i], 40);
        String s = new String(line, start[i], n, StandardCharsets.ISO_8859_1);
        return end[i] - start[i] > n ? s + "..." : s;
    }

    /** @return whether token {@code i} is the single character {@code c} */
    boolean isChar(int i, char c) {
        return end[i] - start[i] == 1 && line[start[i]] == c;
    }

    /**
     * @return token {@code i} as a non-negative decimal integer (an optional leading {@code +} allowed), or
     *         {@link #NOT_A_NUMBER}, or {@link #TOO_LARGE}
     */
    long number(int i) {
        int s = start[i];
        int e = end[i];
        if (s < e && line[s] == '+') s++;
        if (s == e) return NOT_A_NUMBER;
        long v = 0;
        boolean overflow = false;
        for (int k = s; k < e; k++) {
            int d = line[k] - '0';
            if (d < 0 || d > 9) return NOT_A_NUMBER;
            if (v > (Long.MAX_VALUE - d) / 10) overflow = true;
            else v = v * 10 + d;
        }
        return overflow ? TOO_LARGE : v;
    }

    /** @return whether token {@code i} is a minus sign followed by decimal digits */
    boolean isNegativeNumber(int i) {
        int s = start[i];
        int e = end[i];
        if (e - s < 2 || line[s] != '-') return false;
        for (int k = s + 1; k < e; k++) {
            if (line[k] < '0' || line[k] > '9') return false;
        }
        return true;
    }
}
