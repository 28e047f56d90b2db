package org.malloc4j.cli.trace;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/**
 * Writes a trace in the malloc-lab format, gzip-compressed when the file name ends in {@code .gz}: so that a
 * bundled workload can be replayed by other tools, and read back by {@link TraceReader}. The header's suggested
 * heap size is the trace's peak live bytes, its weight 1.
 */
public final class TraceWriter {
    private TraceWriter() {}

    /** Writes {@code trace} to {@code file}, replacing it. */
    public static void write(Trace trace, Path file) throws IOException {
        try (OutputStream raw = Files.newOutputStream(file);
                OutputStream out = new BufferedOutputStream(file.toString().endsWith(".gz")
                        ? new GZIPOutputStream(raw, 1 << 16) : raw, 1 << 16)) {
            StringBuilder sb = new StringBuilder(64);
            sb.append(trace.peakLiveBytes()).append('\n')
                    .append(trace.idSpan()).append('\n')
                    .append(trace.size()).append('\n')
                    .append(1).append('\n');
            out.write(sb.toString().getBytes(StandardCharsets.US_ASCII));
            for (int i = 0; i < trace.size(); i++) {
                sb.setLength(0);
                sb.append(trace.describe(i)).append('\n');
                out.write(sb.toString().getBytes(StandardCharsets.US_ASCII));
            }
        }
    }
}
