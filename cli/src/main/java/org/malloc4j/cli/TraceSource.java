package org.malloc4j.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.malloc4j.cli.trace.Trace;
import org.malloc4j.cli.trace.TraceException;
import org.malloc4j.cli.trace.TraceReader;
import org.malloc4j.cli.workload.Workload;
import org.malloc4j.cli.workload.Workloads;

/**
 * One trace to replay, loaded only when its turn comes (so that one trace at a time is in memory): a file, or a
 * bundled workload.
 */
sealed interface TraceSource {
    /** @return the name the trace has in reports */
    String name();

    /** @return the trace, read or generated now */
    Trace load() throws TraceException;

    /** A trace file. */
    record File(Path path) implements TraceSource {
        @Override
        public String name() {
            return TraceReader.traceName(path);
        }

        @Override
        public Trace load() throws TraceException {
            return TraceReader.read(path);
        }
    }

    /** A bundled workload. */
    record Bundled(Workload workload) implements TraceSource {
        @Override
        public String name() {
            return workload.name();
        }

        @Override
        public Trace load() {
            return workload.generate();
        }
    }

    /**
     * @return the files, then the named workloads; every bundled workload when both are empty
     * @throws IllegalArgumentException for an unknown workload name
     */
    static List<TraceSource> resolve(List<Path> files, List<String> workloads) {
        List<TraceSource> sources = new ArrayList<>();
        for (Path p : files) sources.add(new File(p));
        for (String name : workloads) {
            Workload w = Workloads.named(name).orElseThrow(() -> new IllegalArgumentException("unknown workload '"
                    + name + "': expected one of " + Workloads.names()));
            sources.add(new Bundled(w));
        }
        if (sources.isEmpty()) {
            for (Workload w : Workloads.all()) sources.add(new Bundled(w));
        }
        return sources;
    }
}
