package org.malloc4j.cli.workload;

import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/** The bundled workloads that {@code malloc4j replay} runs when it is given no trace file. */
public final class Workloads {
    private static final List<Workload> ALL = List.of(
            new Workload(RampWorkload.NAME, "ramp up to ~60k live blocks of typical sizes, then down to none",
                    RampWorkload::generate),
            new Workload(PlateauWorkload.NAME, "five phases that build a working set, hold it with churn, "
                    + "release 90% and keep the rest", PlateauWorkload::generate),
            new Workload(ShortLivedWorkload.NAME, "16-256 B blocks living a few ops over a stable long-lived set",
                    ShortLivedWorkload::generate),
            new Workload(ReallocGrowthWorkload.NAME, "strings growing by small appends and vectors doubling, "
                    + "by realloc", ReallocGrowthWorkload::generate),
            new Workload(FragmentingWorkload.NAME, "allocate many blocks, free every other one, then ask for "
                    + "larger ones; sizes from 24 B to 64 KiB", FragmentingWorkload::generate),
            new Workload(LargeMixWorkload.NAME, "churn over a typical working set with 1-8 MiB blocks coming "
                    + "and going", LargeMixWorkload::generate));

    private Workloads() {}

    /** @return every bundled workload, in report order */
    public static List<Workload> all() {
        return ALL;
    }

    /** @return the workload called {@code name}, if there is one */
    public static Optional<Workload> named(String name) {
        return ALL.stream().filter(w -> w.name().equals(name)).findFirst();
    }

    /** @return a short trace to run, unreported, before the first one (see {@code WarmUpWorkload}) */
    public static Workload warmUp() {
        return new Workload(WarmUpWorkload.NAME, "compiles the replay and allocator paths",
                WarmUpWorkload::generate);
    }

    /** @return the names, comma-separated, for messages */
    public static String names() {
        return ALL.stream().map(Workload::name).collect(Collectors.joining(", "));
    }
}
