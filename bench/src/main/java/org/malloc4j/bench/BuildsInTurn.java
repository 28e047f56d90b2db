package org.malloc4j.bench;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Two or more builds of the core, each in a class loader of its own, running the same operation in turn inside one JVM,
 * a ratio per round: whether a change to the heap makes an operation faster, read where the machine's speed modes weigh
 * on every build alike.
 *
 * <p>Why: on this project's machines a JVM runs in one of two speeds for minutes at a time (a CHECKED 16-byte pair read
 * 45 or 67 ns in successive JVMs of one jar, 2026-12-07), so two builds measured in JVMs of their own, even
 * alternating, differ by more than most changes do. Here each build's copy of {@link BuildOperation} links to that
 * build's heap, and C2 compiles each copy on its own profile, as a JVM of that build alone would; every round runs each
 * build for the same number of operations, the order alternating from round to round, and each build's turn starts with
 * an untimed batch, so that its working set is back in the caches when the timed batches start.
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp bench/target/malloc4j-bench.jar org.malloc4j.bench.BuildsInTurn \
 *     ROUNDS OPERATION MODE CORE_A[@MODE] CORE_B[@MODE]...
 * </pre>
 * OPERATION: {@code pair:SIZE} (malloc, a write of the whole block, free, as {@link PairBenchmark}),
 * {@code cycle:SIZE} (16 mallocs, each block's first 8 bytes written, then 16 frees newest first, as the CLI's
 * fragmentation demo times its probes; the time is per malloc and free),
 * {@code larson:SLOTS} ({@link LarsonBenchmark}'s operation on one thread) or {@code xmalloc:MILLIS} (one producer and
 * one consumer thread a build, as {@link XmallocBenchmark}'s pair, kept from round to round and parked while the other
 * builds run; a run lasts MILLIS ms, and the figure is blocks exchanged a microsecond, the best of the runs); MODE:
 * {@code fast}, {@code checked} or {@code sites} (sampled at 1/1000); CORE: a core jar or classes directory, for
 * instance {@code core/target/classes} of the working tree and of a {@code git worktree} of the commit to compare with,
 * each built with {@code ./mvnw -q -o -pl core compile}. Each core must hold every class of the core: a class it lacks
 * would be taken from the bench jar's own copy of the core. A core may name its own mode after an {@code @}: one build
 * twice, as {@code core/target/classes@fast core/target/classes@checked}, gives the diagnostic modes' cost against
 * FAST, each compiled on its own, as in a program that uses one mode. Prints a line per round, then each build's median
 * time per operation (for {@code xmalloc}, its rate) and its median ratio to the first build, saying which side of 1
 * is faster.
 *
 * <p>Checked on 2026-12-07: one build against itself read 1.002 (0.985-1.013 over five rounds) on {@code larson:1000},
 * and a build known to be slower (a larson loop 24% slower in JVMs of its own) read 1.246 (1.204-1.273).
 *
 * <p>What it cannot show: a change whose effect depends on the whole process (the Java heap's settings, a second heap
 * in use) or on a cache that both builds share (each build's heap has its own memory, so a large working set, such as
 * CHECKED mode's 4 MiB quarantine, meets the other build's lines in the last-level cache at the start of its turn). And
 * its loop is not JMH's: C2 inlines the operation, the heap's calls and the block's write into one method, and its
 * choices there can differ from those it makes in a JMH fork (FAST with sampled sites read 1.19-1.39x FAST at 256 bytes
 * here, where JMH's forks, three of each, read 1.02x in the same hour): read a mode's cost in JMH, and a build's change
 * against another build here.
 */
public final class BuildsInTurn {
    private BuildsInTurn() {}

    private static final String TOOL = "BuildsInTurn";
    private static final int WARM_UP_ROUNDS = 3, TIMED_BATCHES = 5, BATCH = 200_000;

    public static void main(String[] args) throws Throwable {
        if (args.length < 5) {
            System.err.println("usage: BuildsInTurn ROUNDS pair:SIZE|cycle:SIZE|larson:SLOTS|xmalloc:MILLIS fast|checked|sites"
                    + " CORE_A[@MODE] CORE_B[@MODE]...");
            System.exit(2);
        }
        int rounds = ToolArgs.positive(TOOL, args[0], "ROUNDS");
        String[] op = args[1].split(":", 2);
        if (op.length != 2 || !(op[0].equals("pair") || op[0].equals("cycle") || op[0].equals("larson")
                || op[0].equals("xmalloc"))) {
            fail("the operation must be pair:SIZE, cycle:SIZE, larson:SLOTS or xmalloc:MILLIS: " + args[1]);
        }
        boolean exchange = op[0].equals("xmalloc");
        int n = ToolArgs.positive(TOOL, op[1], switch (op[0]) {
            case "pair", "cycle" -> "SIZE";
            case "larson" -> "SLOTS";
            default -> "MILLIS";
        });
        String[] names = Arrays.copyOfRange(args, 3, args.length);
        int builds = names.length;
        String[] modes = new String[builds];
        for (int b = 0; b < builds; b++) {
            int at = names[b].lastIndexOf('@');
            modes[b] = at < 0 ? args[2] : names[b].substring(at + 1);
            if (at >= 0) names[b] = names[b].substring(0, at);
            if (!modes[b].equals("fast") && !modes[b].equals("checked") && !modes[b].equals("sites")) {
                fail("the mode must be fast, checked or sites: " + modes[b]);
            }
        }
        MethodHandle[] run = new MethodHandle[builds];
        Object[] state = new Object[builds];
        URL bench = BuildsInTurn.class.getProtectionDomain().getCodeSource().getLocation();
        for (int b = 0; b < builds; b++) {
            Path core = Path.of(names[b]);
            if (!Files.exists(core)) fail("no core build at " + core);
            ClassLoader loader = new URLClassLoader(new URL[] {url(core), bench}, ClassLoader.getPlatformClassLoader());
            Class<?> c = loader.loadClass(BuildOperation.class.getName());
            MethodHandles.Lookup lookup = MethodHandles.publicLookup();
            if (exchange) {
                state[b] = lookup.findStatic(c, "openExchange", MethodType.methodType(Object.class, String.class))
                        .invoke(modes[b]);
            } else {
                state[b] = lookup.findStatic(c, "open", MethodType.methodType(Object.class, String.class, long.class,
                        int.class)).invoke(modes[b], op[0].equals("larson") ? 0L : (long) n,
                                op[0].equals("larson") ? n : 0);
            }
            run[b] = lookup.findStatic(c, switch (op[0]) {
                case "pair" -> "pairs";
                case "cycle" -> "cycles";
                case "larson" -> "larson";
                default -> "exchange";
            }, MethodType.methodType(long.class, Object.class, int.class));
        }
        double[][] ns = new double[builds][rounds];
        long sink = 0;
        for (int r = -WARM_UP_ROUNDS; r < rounds; r++) {
            StringBuilder line = new StringBuilder("round " + (r + 1));
            double[] best = new double[builds];
            for (int k = 0; k < builds; k++) {
                int b = (r & 1) == 0 ? k : builds - 1 - k; // the order alternates from round to round
                if (exchange) { // blocks a microsecond, the best of the timed runs (after an untimed one)
                    sink += (long) run[b].invokeExact(state[b], n); // untimed, as the other operations' first batch
                    long rate = 0;
                    for (int t = 0; t < TIMED_BATCHES; t++) {
                        rate = Math.max(rate, (long) run[b].invokeExact(state[b], n));
                    }
                    best[b] = rate / 1000.0;
                    continue;
                }
                // untimed: the caches refilled after the other builds' turns
                sink += (long) run[b].invokeExact(state[b], BATCH);
                long fastest = Long.MAX_VALUE;
                for (int t = 0; t < TIMED_BATCHES; t++) {
                    long t0 = System.nanoTime();
                    sink += (long) run[b].invokeExact(state[b], BATCH);
                    fastest = Math.min(fastest, System.nanoTime() - t0);
                }
                best[b] = (double) fastest / BATCH;
            }
            if (r < 0) continue;
            for (int b = 0; b < builds; b++) {
                ns[b][r] = best[b];
                line.append(String.format("  %s %.2f", label(b), best[b]));
            }
            System.out.println(line);
        }
        StringBuilder summary = new StringBuilder(String.format("%s, medians of %d rounds, %s:", args[1], rounds,
                exchange ? "blocks exchanged a microsecond (higher is better)" : "ns an operation"));
        for (int b = 0; b < builds; b++) summary.append(String.format("  %s %.2f", label(b), ToolArgs.median(ns[b])));
        for (int b = 1; b < builds; b++) {
            double[] ratio = new double[rounds];
            for (int r = 0; r < rounds; r++) ratio[r] = ns[b][r] / ns[0][r];
            double[] sorted = ratio.clone();
            Arrays.sort(sorted);
            summary.append(String.format("%n  %s / %s per round: median %.3f (%.3f-%.3f)%s", label(b), label(0),
                    ToolArgs.median(ratio), sorted[0], sorted[rounds - 1],
                    exchange ? ", above 1: " + label(b) + " faster" : ", below 1: " + label(b) + " faster"));
        }
        System.out.println(summary);
        for (int b = 0; b < builds; b++) System.out.println("  " + label(b) + " = " + names[b] + ", " + modes[b]);
        if (sink == 42) System.out.print(""); // keeps the results live
    }

    /** @return the name of build {@code b} in the table: A, B, C... */
    private static String label(int b) {
        return String.valueOf((char) ('A' + b));
    }

    private static URL url(Path p) throws MalformedURLException {
        return p.toAbsolutePath().toUri().toURL();
    }

    private static void fail(String message) {
        System.err.println(TOOL + ": " + message);
        System.exit(2);
    }
}
