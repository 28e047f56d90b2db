package org.malloc4j.cli.replay;

import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.malloc4j.anchors.Allocator;
import org.malloc4j.anchors.HeapAllocator;
import org.malloc4j.cli.trace.Trace;
import org.malloc4j.cli.trace.TraceException;
import org.malloc4j.cli.trace.TraceFiles;
import org.malloc4j.cli.trace.TraceReader;

/**
 * Two builds of the heap replaying the same traces in one JVM, in turn: a developer's A/B of a change to the core.
 *
 * <p>Why: on this project's machines a JVM runs in one of two speed modes for its whole life, so two builds timed in
 * separate JVMs differ by as much as the change under test. Here each build's core jar is loaded by a class loader of
 * its own (with its own copy of the {@link Allocator} adapter), and every round replays each trace on a fresh heap
 * of each build (the fastest of five passes on it, {@code -Dmalloc4j.ab.passes=N}), A then B, then B then A in the
 * next round; the ratio of each round is read, and the medians.
 * Both builds run the same compiled replay loop ({@link TimedPass}), whose allocator call sites see the two adapters:
 * C2 inlines both, each behind a type check.
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp cli/target/malloc4j-cli.jar org.malloc4j.cli.replay.BuildComparison \
 *     A.jar B.jar ROUNDS TRACE...
 * </pre>
 * {@code A.jar} and {@code B.jar}: core jars ({@code core/target/malloc4j-core-*.jar} of each build, copied aside)
 * or class directories;
 * ROUNDS: reported rounds, after 3 unreported; TRACE: trace files or directories (as {@code malloc4j replay} takes).
 * Prints a line per round and trace (ns per operation of each build, B / A), then per trace the median of each
 * build and of the ratios, and each build's peak committed bytes after the first pass on a fresh heap (a
 * deterministic trace gives the same every round).
 */
public final class BuildComparison {
    private BuildComparison() {}

    private static final int WARM_UP_ROUNDS = 3;
    /** Passes of a trace per build and round on one heap, the fastest counted ({@code -Dmalloc4j.ab.passes}). */
    private static final int PASSES = Math.max(1, Integer.getInteger("malloc4j.ab.passes", 5));

    public static void main(String[] args) throws Exception {
        int code = run(args, System.out, System.err);
        if (code != 0) System.exit(code);
    }

    /** @return the exit status: 0, or 2 for bad arguments (said on {@code err}) */
    static int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        if (args.length < 4) {
            err.println("usage: BuildComparison A.jar B.jar ROUNDS TRACE...");
            return 2;
        }
        int rounds;
        try {
            rounds = Integer.parseInt(args[2]);
            if (rounds < 1) throw new NumberFormatException();
        } catch (NumberFormatException e) {
            err.println("BuildComparison: ROUNDS must be a positive integer: " + args[2]);
            return 2;
        }
        for (int i = 0; i < 2; i++) {
            if (!Files.exists(Path.of(args[i]))) {
                err.println("BuildComparison: build " + (char) ('A' + i) + ": no such jar or directory: " + args[i]);
                return 2;
            }
        }
        List<Trace> traces = new ArrayList<>();
        try {
            for (Path p : TraceFiles.expand(Arrays.stream(args, 3, args.length).map(Path::of).toList())) {
                traces.add(TraceReader.read(p));
            }
        } catch (TraceException e) {
            err.println("BuildComparison: " + e.getMessage());
            return 2;
        }
        Build a = new Build(Path.of(args[0])), b = new Build(Path.of(args[1]));
        double[][][] ns = new double[traces.size()][2][rounds];
        for (int r = -WARM_UP_ROUNDS; r < rounds; r++) {
            for (int t = 0; t < traces.size(); t++) {
                Trace trace = traces.get(t);
                boolean aFirst = (r & 1) == 0;
                double first = (aFirst ? a : b).timedPass(trace), second = (aFirst ? b : a).timedPass(trace);
                double na = aFirst ? first : second, nb = aFirst ? second : first;
                if (r >= 0) {
                    ns[t][0][r] = na;
                    ns[t][1][r] = nb;
                }
                out.printf("%s %-18s A %8.2f  B %8.2f ns/op  B/A %.3f%n", r < 0 ? "warm-up " : "round " + (r + 1),
                        trace.name(), na, nb, nb / na);
            }
        }
        out.println();
        for (int t = 0; t < traces.size(); t++) {
            double[] ratio = new double[rounds];
            for (int r = 0; r < rounds; r++) ratio[r] = ns[t][1][r] / ns[t][0][r];
            out.printf("%-18s A %8.2f  B %8.2f ns/op (medians of %d rounds)  B/A median %.3f (%.3f-%.3f)"
                    + "  peak committed A %d, B %d%n", traces.get(t).name(), median(ns[t][0]), median(ns[t][1]),
                    rounds, median(ratio), Arrays.stream(ratio).min().orElse(0), Arrays.stream(ratio).max().orElse(0),
                    a.peakCommitted(traces.get(t)), b.peakCommitted(traces.get(t)));
        }
        return 0;
    }

    /**
     * @return a class loader that takes the heap's classes from {@code core} (and the allocator adapter from this
     *         tool's own jar) before its parent, everything else from its parent
     */
    static ClassLoader loaderFor(Path core) {
        // The adapter's own jar: this tool's shaded jar, or the anchors module's when run from the build's classes.
        URL adapter = HeapAllocator.class.getProtectionDomain().getCodeSource().getLocation();
        return new ChildFirst(new URL[] {Build.url(core), adapter}, BuildComparison.class.getClassLoader());
    }

    /** One build: its core jar, loaded apart from every other class of the heap. */
    private static final class Build {
        private final ClassLoader loader;
        private final java.util.Map<String, Long> peaks = new java.util.HashMap<>();

        Build(Path core) {
            loader = loaderFor(core);
        }

        /**
         * @return ns per operation of the fastest of {@link #PASSES} timed passes on one fresh heap (as
         *         {@code malloc4j replay --repeat} times them: the first pass also pays for the pages it faults in)
         */
        double timedPass(Trace trace) throws ReflectiveOperationException {
            Class<?> heapClass = loader.loadClass("org.malloc4j.Heap");
            Object heap = heapClass.getMethod("create").invoke(null);
            Allocator allocator = (Allocator) loader.loadClass("org.malloc4j.anchors.HeapAllocator")
                    .getConstructor(heapClass).newInstance(heap);
            try {
                long best = Long.MAX_VALUE;
                for (int i = 0; i < PASSES; i++) {
                    best = Math.min(best, TimedPass.run(trace, allocator));
                    if (i > 0) continue;
                    Object stats = heapClass.getMethod("stats").invoke(heap); // the first pass's, on a fresh heap
                    peaks.put(trace.name(), (Long) stats.getClass().getMethod("peakCommittedBytes").invoke(stats));
                }
                return (double) best / trace.size();
            } catch (InvocationTargetException e) {
                throw new IllegalStateException("build failed on " + trace.name(), e.getCause());
            } finally {
                allocator.close();
            }
        }

        long peakCommitted(Trace trace) {
            return peaks.getOrDefault(trace.name(), -1L);
        }

        static URL url(Path p) {
            try {
                return p.toUri().toURL();
            } catch (MalformedURLException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /**
     * Loads the heap's own classes (the core and the {@code HeapAllocator} adapter) from its URLs before asking its
     * parent, so that each build has its own; everything else (the replay, the {@code Allocator} interface, the JDK)
     * comes from the parent, shared.
     */
    private static final class ChildFirst extends URLClassLoader {
        ChildFirst(URL[] urls, ClassLoader parent) {
            super(urls, parent);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (!isBuildOwn(name)) return super.loadClass(name, resolve);
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                if (c == null) c = findClass(name);
                if (resolve) resolveClass(c);
                return c;
            }
        }

        private static boolean isBuildOwn(String name) {
            return name.startsWith("org.malloc4j.") && !name.startsWith("org.malloc4j.cli.")
                    && !name.startsWith("org.malloc4j.anchors.") || name.equals("org.malloc4j.anchors.HeapAllocator");
        }
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
}
