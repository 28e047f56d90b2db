package org.malloc4j.cli.workload;

import java.util.SplittableRandom;
import org.malloc4j.cli.trace.Trace;

/**
 * Peaks and plateaus: five phases, each building up a working set with its own size range, holding it while
 * blocks are replaced (free one, allocate one), then releasing 90% of it in random order. The 10% kept from each
 * phase stay live to the end, in the holes of the pages the phase leaves behind; half of them are freed at the
 * end and the rest are leaks.
 */
final class PlateauWorkload {
    static final String NAME = "plateaus";

    /** Per phase: blocks built up, and the size range of most of them. */
    private static final int[] TARGET = {15_000, 40_000, 25_000, 50_000, 10_000};
    private static final long[] LO = {16, 64, 24, 256, 16};
    private static final long[] HI = {128, 1024, 256, 4096, 64};
    private static final int HOLD_OPS = 20_000;

    private PlateauWorkload() {}

    static Trace generate() {
        Recorder r = new Recorder(NAME, 0x504C_4154L, 370_000);
        IdSet kept = new IdSet();
        for (int p = 0; p < TARGET.length; p++) {
            IdSet phase = new IdSet();
            for (int i = 0; i < TARGET[p]; i++) phase.add(r.alloc(size(r.random, p)));
            for (int i = 0; i < HOLD_OPS / 2; i++) {
                r.free(phase.removeRandom(r.random));
                phase.add(r.alloc(size(r.random, p)));
            }
            int keep = phase.size() / 10;
            while (phase.size() > keep) r.free(phase.removeRandom(r.random));
            while (phase.size() > 0) kept.add(phase.removeRandom(r.random));
        }
        for (int n = kept.size() / 2; n > 0; n--) r.free(kept.removeRandom(r.random));
        return r.build();
    }

    /** 80% from the phase's own range, 20% typical. */
    private static long size(SplittableRandom random, int phase) {
        return random.nextInt(5) != 0 ? Sizes.logUniform(random, LO[phase], HI[phase]) : Sizes.typical(random);
    }
}
