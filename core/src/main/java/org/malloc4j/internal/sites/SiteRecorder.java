package org.malloc4j.internal.sites;

import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Records where sampled blocks were allocated, jemalloc-profiler style: sampling by bytes, so that each thread takes
 * a sample when its allocated bytes cross a random threshold (exponentially distributed, mean {@link #meanBytes}).
 * Large blocks are therefore almost always sampled, small ones rarely, and the cost is per byte, not per call.
 *
 * <p>Only sampled blocks are recorded; the heap's engine counts down per thread and calls {@link #record} when the
 * count crosses zero, and tells the recorder about frees of blocks it marked as sampled.
 */
public final class SiteRecorder {
    /** Frames kept per site: enough to tell callers apart; each frame walked costs time on every sample. */
    private static final int DEPTH = 8;
    /** Countdown meaning "sample every block". */
    public static final long ALWAYS = Long.MIN_VALUE / 2;
    /**
     * Frames of malloc4j itself above the caller's on a sampled malloc (API, engine, sampler, recorder); with
     * {@link #DEPTH} it sizes the walker's first batch, so that one batch usually holds every frame a sample reads.
     */
    private static final int INTERNAL_FRAMES = 8;
    private static final StackWalker WALKER = StackWalker.getInstance(java.util.Set.of(), INTERNAL_FRAMES + DEPTH);

    private final double meanBytes;
    private final ConcurrentHashMap<Long, SiteRecord> live = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<SiteKey, Site> sites = new ConcurrentHashMap<>();

    /**
     * @param rate in (0, 1]: 1 records every block; below, one sample every {@code 512 / rate} bytes on average
     *        (1/1000 gives jemalloc's default of one sample per 512 KiB)
     */
    public SiteRecorder(double rate) {
        if (!(rate > 0 && rate <= 1)) throw new IllegalArgumentException("site rate must be in (0, 1]: " + rate);
        this.meanBytes = rate >= 1 ? 0 : 512 / rate;
    }

    /** @return the bytes a thread allocates before its next sample */
    public long nextCountdown() {
        if (meanBytes == 0) return ALWAYS;
        double u = ThreadLocalRandom.current().nextDouble();
        return (long) (-Math.log(1 - u) * meanBytes);
    }

    /** Records the block just allocated at {@code address}, with the caller's stack. */
    public SiteRecord record(long address, long size) {
        Site site = capture();
        double p = meanBytes == 0 ? 1 : -Math.expm1(-Math.max(size, 1) / meanBytes);
        SiteRecord r = new SiteRecord(address, size, site, Thread.currentThread().getName(), Math.max(size, 1) / p);
        live.put(address, r);
        return r;
    }

    /** @return the record of the block at {@code address} after removing it, or null when it was not sampled */
    public SiteRecord forget(long address) {
        return live.remove(address);
    }

    /** @return the record of the live sampled block at {@code address}, or null */
    public SiteRecord get(long address) {
        return live.get(address);
    }

    /** Notes a new requested size of a sampled block resized in place. */
    public void resized(long address, long size) {
        SiteRecord r = live.get(address);
        if (r != null) r.size = size;
    }

    /** @return the records of the live sampled blocks (a weakly consistent view) */
    public Collection<SiteRecord> live() {
        return live.values();
    }

    /**
     * @return the caller's site: the frames below the first one outside malloc4j's API and internals. The walk keeps
     *         only class name, method name and bytecode index per frame (cheap to read, and enough to tell sites
     *         apart); the stack trace elements, whose line numbers cost a lookup each, are made once per new site
     */
    public Site capture() {
        StackWalker.StackFrame[] frames = WALKER.walk(SiteRecorder::callerFrames);
        int n = 0;
        while (n < DEPTH && frames[n] != null) n++;
        long[] key = new long[2 * n];
        for (int i = 0; i < n; i++) {
            StackWalker.StackFrame f = frames[i];
            key[2 * i] = (long) f.getClassName().hashCode() << 32 | (f.getMethodName().hashCode() & 0xFFFFFFFFL);
            key[2 * i + 1] = f.getByteCodeIndex();
        }
        SiteKey k = new SiteKey(frames, n, key);
        Site known = sites.get(k);
        if (known != null) return known;
        StackTraceElement[] elements = new StackTraceElement[n];
        for (int i = 0; i < n; i++) elements[i] = frames[i].toStackTraceElement();
        Site site = new Site(elements);
        known = sites.putIfAbsent(k, site);
        return known != null ? known : site;
    }

    /**
     * The first {@link #DEPTH} frames outside malloc4j, null-padded. A plain loop over the stream's iterator: the
     * walker fetches frames in batches as the loop asks for them, so stopping at {@code DEPTH} stops the walk.
     */
    private static StackWalker.StackFrame[] callerFrames(java.util.stream.Stream<StackWalker.StackFrame> stream) {
        StackWalker.StackFrame[] frames = new StackWalker.StackFrame[DEPTH];
        int n = 0;
        for (java.util.Iterator<StackWalker.StackFrame> it = stream.iterator(); it.hasNext() && n < DEPTH; ) {
            StackWalker.StackFrame f = it.next();
            if (n > 0 || !isInternal(f)) frames[n++] = f;
        }
        return frames;
    }

    /** A site's identity: per frame, its class, method and bytecode index (names compared, not only hashed). */
    private static final class SiteKey {
        private final String[] names;
        private final long[] key;
        private final int hash;

        SiteKey(StackWalker.StackFrame[] frames, int n, long[] key) {
            this.names = new String[2 * n];
            for (int i = 0; i < n; i++) {
                names[2 * i] = frames[i].getClassName();
                names[2 * i + 1] = frames[i].getMethodName();
            }
            this.key = key;
            this.hash = java.util.Arrays.hashCode(key);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof SiteKey k && k.hash == hash && java.util.Arrays.equals(k.key, key)
                    && java.util.Arrays.equals(k.names, names);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    private static boolean isInternal(StackWalker.StackFrame f) {
        String c = f.getClassName();
        return c.startsWith("org.malloc4j.internal.") || c.startsWith("org.malloc4j.Heap")
                || c.startsWith("java.lang.foreign.") || c.startsWith("jdk.internal.foreign.");
    }
}
