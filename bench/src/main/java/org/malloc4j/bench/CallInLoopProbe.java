package org.malloc4j.bench;

/**
 * A JIT experiment, not a benchmark of malloc4j: does how often a fast path's slow path runs change the code C2 makes
 * for the loop around it? A toy "allocator" (a bitmap word, a count, live and peak sums, as malloc4j's fast path
 * updates) takes its slow path once every {@code period} calls; the slow path is a call that C2 must not inline.
 *
 * <p>Run it twice per period, once for the time and once for the machine code of {@code round}:
 * <pre>
 * java -XX:CompileCommand=quiet -XX:CompileCommand=dontinline,org.malloc4j.bench.CallInLoopProbe::slow \
 *      -cp bench/target/malloc4j-bench.jar org.malloc4j.bench.CallInLoopProbe 65
 * java ... -XX:+UnlockDiagnosticVMOptions -XX:CompileCommand=print,org.malloc4j.bench.CallInLoopProbe::round ...
 * </pre>
 * What it showed (2026-12-05, Temurin 25.0.3, the loops found in the printed code): with a period of 65 and of
 * 100,000 C2 emits the same loop, 39 instructions a call of which 10 read or write a stack slot (the caller's array,
 * index, bound and size and the state object live in stack slots across the iteration, on the fast path too); with a
 * period the loop never reaches ({@code 2147483647}) the slow path is a trap, C2 unrolls the loop, and its main body
 * holds one stack access in 26 instructions. So what gives malloc4j's loops their slower code (docs/architecture.md,
 * "What the fast path costs inside a loop") is that a slow path has run at all while C2 profiled the loop, not how
 * often: making slow paths rarer does not buy the lean code back. The toy's own times do not differ (1.4-1.5 ns a
 * call: its loop is too short for the stack traffic to be what limits it).
 */
public final class CallInLoopProbe {
    private CallInLoopProbe() {}

    /** The toy allocator's state. */
    static final class State {
        final long[] words = new long[64];
        int cursor, sinceSlow, period;
        long count, live, peak;
    }

    static long slow(State s, long size) {
        s.sinceSlow = 0;
        s.words[s.cursor & 63] = -1L;
        return size * 3;
    }

    static long malloc(State s, long size) {
        if (++s.sinceSlow < s.period) {
            long w = s.words[s.cursor & 63];
            int idx = Long.numberOfTrailingZeros(w);
            s.words[s.cursor & 63] = w & (w - 1) | 1;
            s.count++;
            long l = s.live + size;
            s.live = l;
            if (l > s.peak) s.peak = l;
            return idx * size;
        }
        return slow(s, size);
    }

    static void round(State s, long[] out, int n, long size) {
        for (int i = 0; i < n; i++) out[i] = malloc(s, size);
    }

    /** @param args the period: calls per slow path */
    public static void main(String[] args) {
        State s = new State();
        s.period = Integer.parseInt(args[0]);
        long[] out = new long[1000];
        for (int w = 0; w < 4; w++) {
            long t0 = System.nanoTime();
            for (int k = 0; k < 200_000; k++) round(s, out, out.length, 256);
            long t1 = System.nanoTime();
            if (w == 3) System.out.printf("period %d: %.2f ns a call%n", s.period, (t1 - t0) / 2e8);
        }
    }
}
