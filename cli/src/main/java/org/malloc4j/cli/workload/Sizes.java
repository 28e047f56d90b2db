package org.malloc4j.cli.workload;

import java.util.SplittableRandom;

/**
 * Block-size distributions modelled on what C programs ask for: most requests small, with a long tail. Sizes are
 * drawn log-uniformly inside a range, so that odd sizes (not multiples of 8 or 16) are common, as in real traces.
 * Uses {@link StrictMath} so that every JVM generates the same workloads.
 */
final class Sizes {
    private Sizes() {}

    /** @return a size in {@code [lo, hi]}, log-uniform */
    static long logUniform(SplittableRandom r, long lo, long hi) {
        double l = StrictMath.log(lo);
        double h = StrictMath.log(hi + 1.0);
        long v = (long) StrictMath.exp(l + r.nextDouble() * (h - l));
        return Math.clamp(v, lo, hi);
    }

    /** @return a small block: 16 to 256 bytes */
    static long small(SplittableRandom r) {
        return logUniform(r, 16, 256);
    }

    /**
     * @return a typical request of a C program: 90% 8-512 B, 9.5% 512 B-32 KiB, 0.5% 32-256 KiB; 1 in 2000
     *         is {@code malloc(0)}
     */
    static long typical(SplittableRandom r) {
        int p = r.nextInt(2000);
        if (p == 0) return 0;
        if (p < 1800) return logUniform(r, 8, 512);
        if (p < 1990) return logUniform(r, 513, 32 << 10);
        return logUniform(r, (32 << 10) + 1, 256 << 10);
    }

    /** @return a large block: 1 to 8 MiB */
    static long large(SplittableRandom r) {
        return logUniform(r, 1 << 20, 8 << 20);
    }
}
