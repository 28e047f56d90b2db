package org.malloc4j.cli.workload;

import java.util.function.Supplier;
import org.malloc4j.cli.trace.Trace;

/**
 * A bundled workload: a name for reports and {@code --workload}, what it models, and its generator (fixed
 * seed: every call gives the same trace).
 *
 * @param name the name used in reports and on the command line
 * @param description what allocation behaviour it models, in a line
 * @param generator builds the trace
 */
public record Workload(String name, String description, Supplier<Trace> generator) {
    /** @return the trace, the same on every call and every JVM */
    public Trace generate() {
        return generator.get();
    }
}
