package org.malloc4j.arrow.bench;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.apache.arrow.memory.AllocationManager;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.memory.netty.NettyAllocationManager;
import org.apache.arrow.memory.unsafe.UnsafeAllocationManager;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.malloc4j.Heap;
import org.malloc4j.arrow.Malloc4jAllocationManager;
import org.malloc4j.arrow.Rows;

/**
 * The Arrow workload of the tests as a benchmark: one JVM, one allocation manager, the workload run several times;
 * prints the time of each run and the process's peak RSS. {@code scripts/arrow-bench.sh} runs it once per manager,
 * each in a JVM of its own, and makes the table.
 *
 * <p>One run: a {@code RootAllocator} on the chosen manager; a {@code VectorSchemaRoot} (int {@code id}, UTF-8
 * {@code name}, both nullable) filled batch by batch with {@code setSafe} (the vectors grow by reallocation, as
 * Arrow code usually makes them grow), each batch written with {@code ArrowStreamWriter} into an in-memory stream;
 * then the stream read back with {@code ArrowStreamReader} on the same allocator (a new set of buffers per batch)
 * and every value checked; then everything closed, and the allocator checked for leaks.
 *
 * <p>The stream's byte array is allocated and touched once, before the baseline RSS is read, and the script runs
 * the JVM with a fixed, pre-touched Java heap, so that the peak RSS's growth over that baseline is native memory
 * (and the JIT's code and metadata), not the Java heap. Arrow's defaults are kept (bounds checks on).
 *
 * <pre>
 * ArrowWorkload --manager malloc4j|unsafe|netty [--runs 5] [--warmup 2] [--rows 3000000] [--batch-rows 250000]
 * </pre>
 */
public final class ArrowWorkload {
    private ArrowWorkload() {}

    public static void main(String[] args) throws IOException {
        String manager = null;
        int runs = 5;
        int warmup = 2;
        int rows = 3_000_000;
        int batchRows = 250_000;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                usage(null);
                return;
            }
            if (i + 1 >= args.length) usage("missing value after " + a);
            String v = args[++i];
            switch (a) {
                case "--manager" -> manager = v;
                case "--runs" -> runs = Integer.parseInt(v);
                case "--warmup" -> warmup = Integer.parseInt(v);
                case "--rows" -> rows = Integer.parseInt(v);
                case "--batch-rows" -> batchRows = Integer.parseInt(v);
                default -> usage("unknown option " + a);
            }
        }
        if (manager == null) usage("--manager is required");
        if (runs < 1 || warmup < 0 || rows < 1 || batchRows < 1) usage("counts must be positive");
        // Arrow's BaseAllocator first: initialized from UnsafeAllocationManager's own class initializer, it would
        // look that class's FACTORY up while it is still null (a class-initialization cycle in Arrow 19). It picks
        // arrow-memory-unsafe as the default factory (it looks for it before Netty), so that Netty is loaded only
        // in the Netty runs.
        RootAllocator.configBuilder();
        AllocationManager.Factory factory = switch (manager) {
            case "malloc4j" -> Malloc4jAllocationManager.FACTORY;
            case "unsafe" -> UnsafeAllocationManager.FACTORY;
            case "netty" -> NettyAllocationManager.FACTORY;
            default -> {
                usage("unknown manager " + manager + " (malloc4j, unsafe or netty)");
                yield null;
            }
        };
        if (manager.equals("netty")) {
            System.out.printf("netty: PlatformDependent.hasUnsafe()=%s, useDirectBufferNoCleaner()=%s%n",
                    io.netty.util.internal.PlatformDependent.hasUnsafe(),
                    io.netty.util.internal.PlatformDependent.useDirectBufferNoCleaner());
        }

        Stream stream = new Stream(rows, batchRows);
        long baselineKb = status("VmRSS");
        System.out.printf(Locale.ROOT, "manager=%s rows=%d batch-rows=%d warmup=%d runs=%d java=%s baseline-rss=%d KiB%n",
                manager, rows, batchRows, warmup, runs, Runtime.version(), baselineKb);

        double[] ms = new double[runs];
        long arrowPeak = 0;
        for (int r = -warmup; r < runs; r++) {
            long faults0 = minorFaults();
            long t0 = System.nanoTime();
            long peak;
            long t1;
            try (BufferAllocator allocator = Rows.rootAllocator(factory)) {
                write(allocator, stream, rows, batchRows);
                t1 = System.nanoTime();
                read(allocator, stream, rows, batchRows);
                peak = allocator.getPeakMemoryAllocation();
            }
            arrowPeak = Math.max(arrowPeak, peak);
            long t2 = System.nanoTime();
            if (r >= 0) ms[r] = (t2 - t0) / 1e6;
            long faults = minorFaults() - faults0;
            System.out.printf(Locale.ROOT,
                    "%s %d: %.1f ms (write %.1f, read %.1f), Arrow peak %.1f MiB, %d minor faults, VmRSS %d KiB%n",
                    r < 0 ? "warmup" : "run", r < 0 ? r + warmup + 1 : r + 1, (t2 - t0) / 1e6, (t1 - t0) / 1e6,
                    (t2 - t1) / 1e6, peak / 1048576.0, faults, status("VmRSS"));
        }
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        double median = runs % 2 == 1 ? sorted[runs / 2] : (sorted[runs / 2 - 1] + sorted[runs / 2]) / 2;
        long hwm = status("VmHWM");
        if (manager.equals("malloc4j")) {
            System.out.println("malloc4j global heap: " + Heap.global().stats());
        }
        System.out.printf(Locale.ROOT,
                "RESULT manager=%s median_ms=%.1f min_ms=%.1f vmhwm_kb=%d baseline_kb=%d arrow_peak_bytes=%d stream_bytes=%d%n",
                manager, median, sorted[0], hwm, baselineKb, arrowPeak, stream.count());
    }

    private static void write(BufferAllocator allocator, Stream stream, int rows, int batchRows) throws IOException {
        stream.reset();
        try (VectorSchemaRoot root = VectorSchemaRoot.create(Rows.SCHEMA, allocator);
             ArrowStreamWriter writer = new ArrowStreamWriter(root, null, Channels.newChannel(stream))) {
            IntVector ids = (IntVector) root.getVector("id");
            VarCharVector names = (VarCharVector) root.getVector("name");
            writer.start();
            for (long first = 0; first < rows; first += batchRows) {
                int n = (int) Math.min(batchRows, rows - first);
                root.allocateNew();
                Rows.fill(ids, names, first, n);
                root.setRowCount(n);
                writer.writeBatch();
            }
            writer.end();
        }
    }

    private static void read(BufferAllocator allocator, Stream stream, int rows, int batchRows) throws IOException {
        long read = 0;
        try (ArrowStreamReader reader = new ArrowStreamReader(stream.input(), allocator)) {
            VectorSchemaRoot root = reader.getVectorSchemaRoot();
            IntVector ids = (IntVector) root.getVector("id");
            VarCharVector names = (VarCharVector) root.getVector("name");
            while (reader.loadNextBatch()) {
                int n = root.getRowCount();
                int bad = Rows.firstMismatch(ids, names, read, n);
                if (bad >= 0) throw new IllegalStateException("wrong value read back at row " + (read + bad));
                read += n;
            }
        }
        if (read != rows) throw new IllegalStateException("read " + read + " rows back, wrote " + rows);
        if (allocator.getAllocatedMemory() != 0) {
            throw new IllegalStateException("Arrow memory still allocated: " + allocator.getAllocatedMemory());
        }
    }

    /** @return a figure in KiB from /proc/self/status ({@code VmRSS}, {@code VmHWM}), or -1 where there is none */
    static long status(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key + ":")) {
                    return Long.parseLong(line.substring(key.length() + 1).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** @return the process's minor page faults so far (/proc/self/stat, field 10), or -1 where there is none */
    static long minorFaults() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[7]); // fields from 3 on: state is 3, minflt is 10
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static void usage(String error) {
        if (error != null) System.err.println("ArrowWorkload: " + error);
        System.err.println("usage: ArrowWorkload --manager malloc4j|unsafe|netty [--runs N] [--warmup N] "
                + "[--rows N] [--batch-rows N]");
        if (error != null) System.exit(2);
    }

    /** An in-memory stream whose byte array is allocated (and touched) once and reused by every run. */
    private static final class Stream extends OutputStream {
        private final byte[] buf;
        private int count;

        Stream(int rows, int batchRows) {
            // ids 4 B, offsets 4 B, names at most 36 B, validity: 48 B a row is more than enough; and each batch's
            // message (its metadata, about 300 B for these two columns, and its buffers' padding): 1 KiB a batch.
            long batches = (rows + (long) batchRows - 1) / batchRows;
            long size = 48L * rows + 1024L * batches + (1 << 20);
            if (size > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("too many rows for one array: " + rows);
            buf = new byte[(int) size];
            Arrays.fill(buf, (byte) 1);
        }

        @Override
        public void write(int b) {
            buf[count++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            System.arraycopy(b, off, buf, count, len);
            count += len;
        }

        void reset() {
            count = 0;
        }

        int count() {
            return count;
        }

        ByteArrayInputStream input() {
            return new ByteArrayInputStream(buf, 0, count);
        }
    }
}
