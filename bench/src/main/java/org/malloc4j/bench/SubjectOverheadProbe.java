package org.malloc4j.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Arrays;
import org.malloc4j.Heap;
import org.malloc4j.anchors.NativeAllocator;

/**
 * What the benchmarks' driver ({@link Subject}) adds to an allocator's calls: PairBenchmark's 16-byte pair through
 * the subject and the same pair called directly, for one native anchor (static final critical downcalls, as a careful
 * FFM user writes them) and for malloc4j ({@code heap.malloc}/{@code heap.free}), in turn in one JVM, a ratio per
 * round (subject / direct). Each loop is a method of its own, so that each call site sees one allocator.
 * <pre>
 * GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384 TCMALLOC_SKIP_SBRK=true java --enable-native-access=ALL-UNNAMED \
 *     -cp bench/target/malloc4j-bench.jar org.malloc4j.bench.SubjectOverheadProbe [ANCHOR [ROUNDS [SIZE]]]
 * </pre>
 * ANCHOR: glibc, jemalloc, mimalloc or tcmalloc (default tcmalloc). A fair driver adds about as much to the anchor's
 * pair as to malloc4j's. Measured 2026-12-07 (2-core VM, tcmalloc, 16 B, medians of 6 rounds, two JVMs each): with
 * {@code Subject.Native} holding the anchor as the {@code Allocator} interface and refusing NULL with a message built
 * from its name and the size, tcmalloc via the subject / direct read 1.187 and 1.139 where malloc4j's read 1.127 and
 * 1.128; with the anchor held as {@code NativeAllocator} and NULL refused by a call without arguments, 1.096 and
 * 1.096 (malloc4j's 1.068 and 1.141).
 */
public final class SubjectOverheadProbe {
    private static final int PAIRS = 2_000_000, PASSES = 5, WARM_UP_ROUNDS = 2;
    private static volatile boolean stop;

    private static MethodHandle malloc, free;

    private final Subject anchor, heapSubject;
    private final Heap heap;
    private final long size;

    private SubjectOverheadProbe(Subject anchor, Subject heapSubject, Heap heap, long size) {
        this.anchor = anchor;
        this.heapSubject = heapSubject;
        this.heap = heap;
        this.size = size;
    }

    public static void main(String[] args) throws Throwable {
        String name = args.length > 0 ? args[0] : "tcmalloc";
        int rounds = args.length > 1 ? ToolArgs.positive("SubjectOverheadProbe", args[1], "ROUNDS") : 8;
        long size = args.length > 2 ? ToolArgs.positive("SubjectOverheadProbe", args[2], "SIZE") : 16;
        NativeAllocator.Kind kind = NativeAllocator.Kind.valueOf(name.toUpperCase(java.util.Locale.ROOT));
        String dir = System.getProperty("malloc4j.anchors.libdir", "/usr/lib/x86_64-linux-gnu");
        SymbolLookup lookup = kind == NativeAllocator.Kind.GLIBC ? Linker.nativeLinker().defaultLookup()
                : SymbolLookup.libraryLookup(Path.of(dir, kind.library), Arena.global());
        malloc = Linker.nativeLinker().downcallHandle(lookup.findOrThrow("malloc"),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG), Linker.Option.critical(false));
        free = Linker.nativeLinker().downcallHandle(lookup.findOrThrow("free"),
                FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG), Linker.Option.critical(false));
        Heap heap = Heap.create();
        SubjectOverheadProbe p = new SubjectOverheadProbe(Subject.open(name, 1), new Subject.Malloc4j(heap), heap, size);
        String[] labels = {name + " direct", name + " via Subject", "malloc4j direct", "malloc4j via Subject"};
        double[][] ns = new double[4][rounds];
        for (int r = -WARM_UP_ROUNDS; r < rounds; r++) {
            double[] best = new double[4];
            Arrays.fill(best, Double.MAX_VALUE);
            for (int k = 0; k < 4; k++) {
                int v = (k + r + WARM_UP_ROUNDS) % 4; // the order turns from round to round
                for (int pass = 0; pass < PASSES; pass++) {
                    long t0 = System.nanoTime();
                    long sum = switch (v) {
                        case 0 -> p.anchorDirect();
                        case 1 -> p.anchorSubject();
                        case 2 -> p.heapDirect();
                        default -> p.heapSubject();
                    };
                    long t = System.nanoTime() - t0;
                    if (sum == 42) System.out.print(""); // keeps every pair alive
                    best[v] = Math.min(best[v], (double) t / PAIRS);
                }
            }
            if (r < 0) continue;
            for (int v = 0; v < 4; v++) ns[v][r] = best[v];
            System.out.printf("round %d  %s %.2f  %s %.2f  %s %.2f  %s %.2f ns a pair%n", r + 1, labels[0], best[0],
                    labels[1], best[1], labels[2], best[2], labels[3], best[3]);
        }
        double[] anchorRatio = new double[rounds], heapRatio = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            anchorRatio[r] = ns[1][r] / ns[0][r];
            heapRatio[r] = ns[3][r] / ns[2][r];
        }
        System.out.printf("%d B, medians of %d rounds: %s via Subject / direct %.3f (%.3f-%.3f); malloc4j via Subject /"
                        + " direct %.3f (%.3f-%.3f)%n", size, rounds, name, ToolArgs.median(anchorRatio),
                Arrays.stream(anchorRatio).min().orElse(0), Arrays.stream(anchorRatio).max().orElse(0),
                ToolArgs.median(heapRatio), Arrays.stream(heapRatio).min().orElse(0),
                Arrays.stream(heapRatio).max().orElse(0));
        heap.close();
    }

    /** The downcall handles as constants, so that C2 inlines them (as {@code NativeAllocator}'s holders do). */
    private static final class Handles {
        static final MethodHandle MALLOC = SubjectOverheadProbe.malloc, FREE = SubjectOverheadProbe.free;
    }

    private long anchorDirect() throws Throwable {
        long sum = 0;
        for (int i = 0; i < PAIRS && !stop; i++) {
            long a = (long) Handles.MALLOC.invokeExact(size);
            Blocks.write(a, size);
            Handles.FREE.invokeExact(a);
            sum += a;
        }
        return sum;
    }

    private long anchorSubject() {
        long sum = 0;
        for (int i = 0; i < PAIRS && !stop; i++) {
            long a = anchor.allocate(0, size);
            Blocks.write(a, size);
            anchor.free(0, a);
            sum += a;
        }
        return sum;
    }

    private long heapDirect() {
        long sum = 0;
        for (int i = 0; i < PAIRS && !stop; i++) {
            long a = heap.malloc(size);
            Blocks.write(a, size);
            heap.free(a);
            sum += a;
        }
        return sum;
    }

    private long heapSubject() {
        long sum = 0;
        for (int i = 0; i < PAIRS && !stop; i++) {
            long a = heapSubject.allocate(0, size);
            Blocks.write(a, size);
            heapSubject.free(0, a);
            sum += a;
        }
        return sum;
    }
}
