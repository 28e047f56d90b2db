package org.malloc4j.internal.sites;

import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Records where sampled blocks were allocated, jemalloc-profiler style: sampling by bytes, so that each thread takes
 * a sample when its allocated bytes cross a random threshold (exponentially distributed, mean {@link #meanBytes}).
 * Large blocks are therefore almost always sampled, small ones rarely, and the cost is per byte, not per call.
 *
 * <p>Only sampled blocks are recorded; the heap's engine counts down per thread and calls {@link #record} when the
 * count crosses zero, and tells the recorder about frees of blocks it marked as sampled.
 */
public final class SiteRecorder {
    /** Frames kept per site: enough to tell callers apart. */
    private static final int DEPTH = 8;
    /** Countdown meaning "sample every block". */
    public static final long ALWAYS = Long.MIN_VALUE / 2;

    private final double meanBytes;
    private final LiveRecords live = new LiveRecords();
    /**
     * Equal sites interned to one object, so that the records of one site share its frames. Bounded: a program whose
     * distinct stacks never end (generated code, scripts) would otherwise keep every site it ever sampled, after its
     * blocks are long freed (jemalloc drops a site's context when its last sample goes). At {@link #MAX_INTERNED} the
     * table starts again empty: a site then interned anew is a second object equal to the first, which reports group
     * by equality, and records keep the site objects they hold.
     */
    private final ConcurrentHashMap<Site, Site> sites = new ConcurrentHashMap<>();
    /** Held while a new site is added: the bound's test, the table's clearing and the put in one step. */
    private final java.util.concurrent.locks.ReentrantLock interning = new java.util.concurrent.locks.ReentrantLock();
    static final int MAX_INTERNED = 1 << 14;
    /**
     * The most records whose allocation stack is still a capture. A capture holds the whole backtrace (about 730
     * bytes at 20 frames, against a few dozen for a resolved record whose site is shared), so the live records keep
     * only the last ones taken as waiting ({@link LiveRecords}); a record pushed out while its block is still live
     * is resolved then, by the sample that pushed it out (at most one resolution a sample). With {@code trackSites(1)}
     * and a million live blocks that bounds the captures at 3 MB instead of 730 MB.
     */
    static final int MAX_UNRESOLVED = 4096;
    /**
     * The last {@link #MAX_UNRESOLVED} records given a free site (CHECKED mode: a block in quarantine, so that a double
     * free names its first free), whose capture may still be raw. Without a bound each quarantined block held a whole
     * backtrace: 235 MB for 100,000 blocks of 16 bytes in the default quarantine (a review, 2026-12-07).
     */
    private final AtomicReferenceArray<SiteRecord> freedWaiting = new AtomicReferenceArray<>(MAX_UNRESOLVED);
    private final AtomicLong freedTurns = new AtomicLong();

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

    /** @return the chance that a block of {@code size} bytes is sampled: {@code 1 - exp(-size / meanBytes)} */
    public double probability(long size) {
        return meanBytes == 0 ? 1.0 : -Math.expm1(-size / meanBytes);
    }

    /** @return the thread's name, or for an unnamed one (a virtual thread, by default) its id */
    private static String threadName(Thread t) {
        String name = t.getName();
        return !name.isEmpty() ? name : (t.isVirtual() ? "virtual #" : "#") + t.threadId();
    }

    /** Records the block just allocated at {@code address}, with the caller's stack. */
    public SiteRecord record(long address, long size) {
        SiteRecord r = new SiteRecord(this, address, size, capture(), threadName(Thread.currentThread()));
        SiteRecord displaced = live.add(r);
        // A record whose block was freed meanwhile is only dropped: no report will read it, and resolving it (a few
        // microseconds) for nothing made sampled pairs of 4 KiB two and a half times slower.
        if (displaced != null && !displaced.forgotten) displaced.site();
        return r;
    }

    /**
     * @return the number of bytes a sample of a block of {@code size} bytes stands for: its size divided by the
     *         probability that a block of that size is sampled
     */
    double weight(long size) {
        double bytes = Math.max(size, 1);
        return meanBytes == 0 ? bytes : bytes / -Math.expm1(-bytes / meanBytes);
    }

    /** @return the records whose stack is not resolved yet (for tests) */
    int unresolved() {
        return live.unresolved();
    }

    /**
     * Keeps {@code r}, whose free site was just captured, among the waiting ones; the record it pushes out has its
     * free site resolved now if its block is still waiting in quarantine (at most one resolution a noted free), or
     * is only dropped when the block has left it (no report will read it).
     */
    void waitFreed(SiteRecord r) {
        int i = (int) (freedTurns.getAndIncrement() & (MAX_UNRESOLVED - 1));
        SiteRecord out = freedWaiting.getAndSet(i, r);
        if (out != null && out != r && !out.forgotten) out.freedAt();
    }

    /** @return the record of the block at {@code address} after removing it, or null when it was not sampled */
    public SiteRecord forget(long address) {
        SiteRecord r = live.remove(address);
        if (r != null) r.forgotten = true;
        return r;
    }

    /**
     * Frees a sampled block by {@code free} only while {@code r} is its live record, atomically with respect to a
     * free of the block by the program (which forgets the record first): @return whether it was freed
     */
    public boolean forgetWhile(SiteRecord r, java.util.function.BooleanSupplier free) {
        if (!live.removeWhile(r, free)) return false;
        r.forgotten = true;
        return true;
    }

    /** @return the record of the live sampled block at {@code address}, or null */
    public SiteRecord get(long address) {
        return live.get(address);
    }

    /** @return the records of the live sampled blocks (a weakly consistent view) */
    public Collection<SiteRecord> live() {
        return live.all();
    }

    /**
     * A stack captured when a block was sampled (or freed): the JVM's own backtrace, which a throwable records without
     * making an object per frame. Its frames are resolved, and the site interned, only when a report reads them
     * ({@link #resolve}): a capture costs 0.4-0.8 us at 10 to 30 frames where a {@link StackWalker} walk of 16 frames
     * cost 2.2-2.4 us in the same loop, and 9 us a sample under JMH's deeper, colder stack.
     */
    public static final class Capture extends Throwable {
        private static final long serialVersionUID = 1L;

        Capture() {
            super(null, null, false, true);
        }
    }

    /** @return the caller's stack, resolved later by {@link #resolve} */
    public Capture capture() {
        return new Capture();
    }

    /**
     * @return the site of a captured stack: its first {@value #DEPTH} frames below the last one of malloc4j's API and
     *         internals, interned so that equal sites are one object
     */
    Site resolve(Capture capture) {
        StackTraceElement[] all = capture.getStackTrace();
        int first = 0;
        while (first < all.length && isInternal(all[first].getClassName())) first++;
        Site site = new Site(java.util.Arrays.copyOfRange(all, first, Math.min(all.length, first + DEPTH)));
        Site known = sites.get(site);
        if (known != null) return known;
        // A new site: its test of the bound and its put in one step, or threads that passed the test together each
        // added one past the bound. A lock, not a monitor: a sampled malloc comes here (NoMonitorOnTheAllocationPaths)
        interning.lock();
        try {
            if (sites.size() >= MAX_INTERNED) sites.clear();
            known = sites.putIfAbsent(site, site);
        } finally {
            interning.unlock();
        }
        return known != null ? known : site;
    }

    /** @return the sites interned now (for tests) */
    int interned() {
        return sites.size();
    }

    private static boolean isInternal(String c) {
        return c.startsWith("org.malloc4j.internal.") || c.startsWith("org.malloc4j.Heap")
                || c.startsWith("java.lang.foreign.") || c.startsWith("jdk.internal.foreign.")
                // Allocator layers over the heap: malloc4j-arrow's allocation manager and the Arrow allocator that
                // calls it (eight frames of theirs filled a site, and no frame of the program that leaked was left)
                || c.startsWith("org.malloc4j.arrow.Malloc4jAllocationManager")
                || c.startsWith("org.apache.arrow.memory.");
    }
}
