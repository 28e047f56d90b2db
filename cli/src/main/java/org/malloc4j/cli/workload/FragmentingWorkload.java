package org.malloc4j.cli.workload;

import java.util.SplittableRandom;
import org.malloc4j.cli.trace.Trace;

/**
 * A fragmenting pattern, round after round with sizes from 24 B to 64 KiB: allocate many blocks of one size,
 * free every other one, then allocate blocks 2-3 times larger, which the holes cannot hold. The survivors stay
 * two rounds, so holes of earlier rounds are still there when later rounds ask for other sizes.
 */
final class FragmentingWorkload {
    static final String NAME = "fragmenting";
    private static final long[] SIZES = {24, 40, 64, 100, 160, 256, 400, 640, 1000, 1600, 2560, 4096, 6500, 10_000,
        16_384, 26_000, 40_000, 65_536};
    private static final int MAX_BLOCKS = 10_000;
    private static final int MIN_BLOCKS = 400;
    /** Bytes allocated per round in the first step, when that needs fewer than MAX_BLOCKS blocks. */
    private static final long ROUND_BYTES = 4L << 20;

    private FragmentingWorkload() {}

    static Trace generate() {
        Recorder r = new Recorder(NAME, 0x4652_4147L, 300_000);
        IdSet survivorsOld = new IdSet();
        IdSet survivors = new IdSet();
        IdSet larger = new IdSet();
        for (long s : SIZES) {
            int n = Math.clamp(ROUND_BYTES / s, MIN_BLOCKS, MAX_BLOCKS);
            int[] round = new int[n];
            for (int i = 0; i < n; i++) round[i] = r.alloc(jitter(r.random, s));
            IdSet kept = new IdSet();
            for (int i = 0; i < n; i++) {
                if ((i & 1) == 1) r.free(round[i]);
                else kept.add(round[i]);
            }
            IdSet bigger = new IdSet();
            for (int i = 0; i < n / 2; i++) bigger.add(r.alloc(jitter(r.random, s * (2 + r.random.nextInt(2)))));
            while (larger.size() > 0) r.free(larger.removeRandom(r.random));
            while (survivorsOld.size() > 0) r.free(survivorsOld.removeRandom(r.random));
            survivorsOld = survivors;
            survivors = kept;
            larger = bigger;
        }
        for (IdSet set : new IdSet[] {larger, survivorsOld, survivors}) {
            while (set.size() > 0) r.free(set.removeRandom(r.random));
        }
        return r.build();
    }

    /** @return {@code s} give or take 10% */
    private static long jitter(SplittableRandom random, long s) {
        long d = Math.max(1, s / 10);
        return s - d + random.nextLong(2 * d + 1);
    }
}
