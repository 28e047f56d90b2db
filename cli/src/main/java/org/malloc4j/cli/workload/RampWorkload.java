package org.malloc4j.cli.workload;

import org.malloc4j.cli.trace.Trace;

/**
 * Ramp up, then down: a program that builds a large structure (three allocations for each free), then tears it
 * down (three frees for each allocation) until nothing is live. Typical C sizes.
 */
final class RampWorkload {
    static final String NAME = "ramp";
    private static final int STEPS_UP = 125_000;

    private RampWorkload() {}

    static Trace generate() {
        Recorder r = new Recorder(NAME, 0x5241_4D50L, 2 * STEPS_UP + 10_000);
        for (int i = 0; i < STEPS_UP; i++) {
            if (r.liveCount() == 0 || r.random.nextInt(4) != 0) r.alloc(Sizes.typical(r.random));
            else r.freeRandom();
        }
        while (r.liveCount() > 0) {
            if (r.random.nextInt(4) != 0) r.freeRandom();
            else r.alloc(Sizes.typical(r.random));
        }
        return r.build();
    }
}
