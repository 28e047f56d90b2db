package org.malloc4j.arrow;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.arrow.memory.AllocationManager;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * The rows of the Arrow workload, shared by the tests and {@code org.malloc4j.arrow.bench.ArrowWorkload}: row
 * {@code i} is a function of {@code i} alone, so a reader can check every value without keeping a copy.
 *
 * <p>Two columns: {@code id}, a nullable 32-bit int, and {@code name}, a nullable UTF-8 string of 3 to 36
 * bytes (some rows with two- and three-byte characters).
 */
public final class Rows {
    /** The schema of the workload's record batches. */
    public static final Schema SCHEMA = new Schema(List.of(
            Field.nullable("id", new ArrowType.Int(32, true)),
            Field.nullable("name", ArrowType.Utf8.INSTANCE)));

    private static final byte[] WIDE = "-é€".getBytes(StandardCharsets.UTF_8); // 1 + 2 + 3 bytes

    private Rows() {}

    /** @return a root allocator on {@code factory}, with Arrow's defaults otherwise (no limit) */
    public static RootAllocator rootAllocator(AllocationManager.Factory factory) {
        return new RootAllocator(RootAllocator.configBuilder().allocationManagerFactory(factory).build());
    }

    /** @return whether row {@code i} of {@code id} is null */
    public static boolean idIsNull(long i) {
        return i % 17 == 5;
    }

    /** @return row {@code i} of {@code id}, when not null */
    public static int id(long i) {
        return (int) (i * 0x9E3779B97F4A7C15L >>> 32);
    }

    /** @return whether row {@code i} of {@code name} is null */
    public static boolean nameIsNull(long i) {
        return i % 13 == 3;
    }

    /**
     * Writes row {@code i} of {@code name} (UTF-8) into {@code dst}, which must hold 64 bytes.
     *
     * @return its length in bytes
     */
    public static int name(long i, byte[] dst) {
        int n = 0;
        dst[n++] = 'r';
        long v = i;
        int start = n;
        do {
            dst[n++] = (byte) ('0' + v % 10);
            v /= 10;
        } while (v != 0);
        for (int a = start, b = n - 1; a < b; a++, b--) { // digits were written backwards
            byte t = dst[a];
            dst[a] = dst[b];
            dst[b] = t;
        }
        int pad = (int) (i % 23);
        for (int k = 0; k < pad; k++) dst[n++] = (byte) ('a' + k);
        if (i % 11 == 0) {
            System.arraycopy(WIDE, 0, dst, n, WIDE.length);
            n += WIDE.length;
        }
        return n;
    }

    /** @return row {@code i} of {@code name} as a string */
    public static String name(long i) {
        byte[] b = new byte[64];
        return new String(b, 0, name(i, b), StandardCharsets.UTF_8);
    }

    /**
     * Fills {@code ids} and {@code names} with rows {@code first} to {@code first + count - 1} at indexes 0 to
     * {@code count - 1}, with {@code setSafe}: the vectors grow as Arrow code usually makes them grow, by
     * reallocation, from whatever capacity they have. Sets both value counts to {@code count}.
     */
    public static void fill(IntVector ids, VarCharVector names, long first, int count) {
        byte[] scratch = new byte[64];
        for (int k = 0; k < count; k++) {
            long i = first + k;
            if (idIsNull(i)) ids.setNull(k);
            else ids.setSafe(k, id(i));
            if (nameIsNull(i)) names.setNull(k);
            else names.setSafe(k, scratch, 0, name(i, scratch));
        }
        ids.setValueCount(count);
        names.setValueCount(count);
    }

    /**
     * Checks rows {@code first} to {@code first + count - 1} at indexes 0 to {@code count - 1}.
     *
     * @return -1 when every value is right, else the index of the first wrong one
     */
    public static int firstMismatch(IntVector ids, VarCharVector names, long first, int count) {
        if (ids.getValueCount() != count || names.getValueCount() != count) return 0;
        byte[] want = new byte[64];
        for (int k = 0; k < count; k++) {
            long i = first + k;
            if (ids.isNull(k) != idIsNull(i)) return k;
            if (!idIsNull(i) && ids.get(k) != id(i)) return k;
            if (names.isNull(k) != nameIsNull(i)) return k;
            if (!nameIsNull(i)) {
                int n = name(i, want);
                long start = names.getStartOffset(k);
                if (names.getEndOffset(k) - start != n) return k;
                var data = names.getDataBuffer();
                for (int b = 0; b < n; b++) {
                    if (data.getByte(start + b) != want[b]) return k;
                }
            }
        }
        return -1;
    }
}
