package org.malloc4j.cli.trace;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.util.Objects;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import java.util.zip.ZipException;

/**
 * Decompresses gzip data (RFC 1952) strictly: one member, or several concatenated ones ({@code cat a.gz b.gz}), and
 * nothing after them. {@link java.util.zip.GZIPInputStream} ends the data without a word at anything after a member
 * that is not a whole gzip header, so a trace with bytes appended to it read as if it were whole; here those bytes
 * are a {@link TrailingGarbageException}.
 */
final class StrictGzipInputStream extends InputStream {
    private static final int FHCRC = 2;
    private static final int FEXTRA = 4;
    private static final int FNAME = 8;
    private static final int FCOMMENT = 16;

    /** Bytes after the last gzip member that do not begin another one. */
    static final class TrailingGarbageException extends ZipException {
        private static final long serialVersionUID = 1L;

        /** @param offset where the bytes begin in the file */
        TrailingGarbageException(long offset) {
            super("trailing garbage after the gzip data, at byte " + offset + " of the file");
        }
    }

    private final PushbackInputStream in;
    private final byte[] buf = new byte[1 << 16];
    private final Inflater inf = new Inflater(true);
    private final CRC32 crc = new CRC32();
    /** Bytes of {@link #buf} last handed to the inflater. */
    private int fed;
    /** Bytes of the file read so far, but for the current member's deflate data (the inflater counts those). */
    private long offset;
    private boolean done;

    /**
     * Reads the first member's header.
     *
     * @throws EOFException if the header is cut short
     * @throws ZipException if the data is not gzip
     */
    StrictGzipInputStream(InputStream raw) throws IOException {
        in = new PushbackInputStream(raw, buf.length);
        header(true);
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) return 0;
        while (!done) {
            int n;
            try {
                n = inf.inflate(b, off, len);
            } catch (DataFormatException e) {
                throw new ZipException(e.getMessage() != null ? e.getMessage() : "invalid deflate data");
            }
            if (n > 0) {
                crc.update(b, off, n);
                return n;
            }
            if (inf.finished()) {
                endOfMember();
            } else if (inf.needsDictionary()) {
                throw new ZipException("deflate data asks for a preset dictionary, which gzip has not");
            } else if (inf.needsInput()) {
                fed = in.read(buf, 0, buf.length);
                if (fed < 0) throw new EOFException("Unexpected end of ZLIB input stream");
                inf.setInput(buf, 0, fed);
            }
        }
        return -1;
    }

    @Override
    public void close() throws IOException {
        inf.end();
        in.close();
    }

    /** Checks the trailer of the member just inflated, then starts the next member, if there is one. */
    private void endOfMember() throws IOException {
        int left = inf.getRemaining();
        if (left > 0) in.unread(buf, fed - left, left);
        offset += inf.getBytesRead();
        if (uint32() != crc.getValue()) throw new ZipException("Corrupt GZIP trailer (CRC-32 mismatch)");
        if (uint32() != (inf.getBytesWritten() & 0xFFFF_FFFFL)) {
            throw new ZipException("Corrupt GZIP trailer (size mismatch)");
        }
        int next = in.read();
        if (next < 0) {
            done = true;
            return;
        }
        in.unread(next);
        inf.reset();
        crc.reset();
        header(false);
    }

    /** Reads a member's header; after the first member, bytes that do not start with gzip's magic are garbage. */
    private void header(boolean first) throws IOException {
        long start = offset;
        int id1 = in.read();
        int id2 = id1 < 0 ? -1 : in.read();
        if (id1 != 0x1f || id2 != 0x8b) {
            if (!first) throw new TrailingGarbageException(start);
            if (id2 < 0) throw new EOFException();
            throw new ZipException("Not in GZIP format");
        }
        offset += 2;
        if (u8() != 8) throw new ZipException("Unsupported compression method");
        int flags = u8();
        for (int i = 0; i < 6; i++) u8(); // modification time, extra flags, operating system
        if ((flags & FEXTRA) != 0) {
            int n = u8() | u8() << 8;
            for (int i = 0; i < n; i++) u8();
        }
        if ((flags & FNAME) != 0) {
            while (u8() != 0) {
                // the original file name: skipped
            }
        }
        if ((flags & FCOMMENT) != 0) {
            while (u8() != 0) {
                // a comment: skipped
            }
        }
        if ((flags & FHCRC) != 0) {
            u8();
            u8();
        }
    }

    private int u8() throws IOException {
        int b = in.read();
        if (b < 0) throw new EOFException();
        offset++;
        return b;
    }

    private long uint32() throws IOException {
        return (u8() | u8() << 8 | u8() << 16 | (long) u8() << 24) & 0xFFFF_FFFFL;
    }
}
