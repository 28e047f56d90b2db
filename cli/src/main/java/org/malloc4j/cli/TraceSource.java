package org.malloc4j.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
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

    /**
     * A trace file.
     *
     * @param name its name in reports: the file name without {@code .rep[.gz]}, with as many of its folders before it
     *        as tell it from the other traces of the replay
     */
    record File(Path path, String name) implements TraceSource {
        @Override
        public Trace load() throws TraceException {
            return TraceReader.read(path, name);
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
        List<String> names = distinctNames(files, workloads);
        for (int f = 0; f < files.size(); f++) {
            // One line each in the table and the messages, whatever control characters the file's name holds
            sources.add(new File(files.get(f), TraceException.printableName(names.get(f))));
        }
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

    /**
     * @return the name of each of {@code files} in reports: its file name without {@code .rep[.gz]} (gcc), or, where
     *         another file of the replay or a bundled workload has that name, with the fewest folders before it (one
     *         at least) that tell them apart (a/gcc and b/gcc), and its whole file name where only that does
     *         (c/gcc.rep and c/gcc.rep.gz); one file named twice, however spelled, keeps one name
     */
    static List<String> distinctNames(List<Path> files, List<String> workloads) {
        List<Path> full = files.stream().map(p -> p.toAbsolutePath().normalize()).toList();
        Map<String, Set<Path>> byName = new HashMap<>();
        for (Path p : full) byName.computeIfAbsent(TraceReader.traceName(p), k -> new LinkedHashSet<>()).add(p);
        List<String> names = new ArrayList<>(files.size());
        for (int f = 0; f < files.size(); f++) {
            Path p = full.get(f);
            Set<Path> same = byName.get(TraceReader.traceName(p));
            if (same.size() == 1 && !workloads.contains(TraceReader.traceName(p))) {
                names.add(TraceReader.traceName(files.get(f)));
                continue;
            }
            // At least its folder: "gcc" beside "a/gcc" would read as the same trace
            int folders = Math.min(1, p.getNameCount() - 1);
            while (folders < p.getNameCount() - 1 && clashes(p, folders, same, workloads)) folders++;
            names.add(label(p, folders, same));
        }
        return names;
    }

    /** @return whether {@code p}'s label with {@code folders} folders is a workload's or another of {@code same}'s */
    private static boolean clashes(Path p, int folders, Set<Path> same, List<String> workloads) {
        String mine = label(p, folders, same);
        if (workloads.contains(mine)) return true;
        for (Path o : same) {
            if (!o.equals(p) && o.getNameCount() - 1 >= folders && label(o, folders, same).equals(mine)) return true;
        }
        return false;
    }

    /**
     * @return {@code p}'s last {@code folders} folders, then its trace name, or its whole file name where another of
     *         {@code same} (the files of its trace name) is in its folder: gcc.rep beside gcc.rep.gz
     */
    private static String label(Path p, int folders, Set<Path> same) {
        boolean besideOther = same.stream().anyMatch(o -> !o.equals(p) && Objects.equals(o.getParent(), p.getParent()));
        String last = besideOther ? String.valueOf(p.getFileName()) : TraceReader.traceName(p);
        if (folders == 0) return last;
        return p.subpath(p.getNameCount() - 1 - folders, p.getNameCount() - 1) + "/" + last;
    }
}
