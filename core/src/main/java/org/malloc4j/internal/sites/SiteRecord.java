package org.malloc4j.internal.sites;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One sampled live block: where and by which thread it was allocated, and its size. Identity matters: a record
 * stands for one allocation, so a late observer (a cleaner, a leak report) can tell it from a later block at the
 * same address.
 */
public final class SiteRecord {
    /** The block's address in the heap's engine (in CHECKED mode, before the red zone). */
    public final long address;
    /** Bytes requested (updated by realloc in place). */
    public volatile long size;
    private final SiteRecorder recorder;
    /** The allocation's stack: a {@link SiteRecorder.Capture} until first read, then its {@link Site}. */
    private volatile Object site;
    public final String thread;
    /**
     * When the block was sampled ({@link System#nanoTime()}): which of an arena's blocks it took first, for the
     * arena's site in a leak report (a few nanoseconds against the microseconds of the stack's capture).
     */
    public final long sampledAt = System.nanoTime();
    /**
     * The size the sampling probability was taken at: the size at malloc, or the size a realloc in place gave the
     * block when it took the decision again ({@link #resampled}).
     */
    private volatile long sampledSize;
    /** Where the block was freed, when that free was seen (CHECKED double-free reports): a capture, or its site. */
    private volatile Object freedAt;
    /** Set when the block's free reached the engine: the recorder then never resolves a still waiting capture. */
    volatile boolean forgotten;
    /**
     * The token of the block's newest watched segment ({@link SegmentWatch#watched}): a segment that a realloc in place
     * replaced must not report the block when it becomes unreachable, since the block lives on behind its successor.
     */
    @SuppressWarnings("unused") // through WATCH
    private volatile Object watch;

    private static final VarHandle WATCH;

    static {
        try {
            WATCH = MethodHandles.lookup().findVarHandle(SiteRecord.class, "watch", Object.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    SiteRecord(SiteRecorder recorder, long address, long size, SiteRecorder.Capture site, String thread) {
        this.recorder = recorder;
        this.address = address;
        this.size = size;
        this.sampledSize = size;
        this.site = site;
        this.thread = thread;
    }

    /**
     * @return the number of bytes this sample stands for: its size when sampled over the probability of sampling a
     *         block of that size (computed when a report asks, not on the sampling path)
     */
    public double weight() {
        return recorder.weight(sampledSize);
    }

    /** @return the size when the block was sampled (its size now is {@link #size}) */
    public long sampledSize() {
        return sampledSize;
    }

    /** The block was resized in place to {@code size}, and stays sampled at that size. */
    public void resampled(long size) {
        this.sampledSize = size;
        this.size = size;
    }

    /** Makes {@code token} the block's newest watched segment; an older one's watch is void from then on. */
    void watchedBy(Object token) {
        WATCH.setVolatile(this, token);
    }

    /**
     * @return true, once, when {@code token} is still the block's newest watched segment: its reporter then owns the
     *         report (no other segment's cleanup reports the block again)
     */
    boolean claimWatch(Object token) {
        return WATCH.compareAndSet(this, token, (Object) null);
    }

    /** @return whether the allocation's stack has been resolved to a site (no capture held any more) */
    boolean isResolved() {
        return site instanceof Site;
    }

    /** @return where the block was allocated (its frames resolved on the first call) */
    public Site site() {
        Object s = site;
        if (s instanceof Site known) return known;
        Site resolved = recorder.resolve((SiteRecorder.Capture) s);
        site = resolved;
        return resolved;
    }

    /**
     * Notes that the block is being freed here, by the calling thread's stack: a capture, which the recorder bounds
     * as it does allocation captures ({@link SiteRecorder#waitFreed}).
     */
    public void freedHere() {
        freedAt = recorder.capture();
        recorder.waitFreed(this);
    }

    /** @return where the block was freed, or null when its free was not noted */
    public Site freedAt() {
        Object f = freedAt;
        if (f == null || f instanceof Site) return (Site) f;
        Site resolved = recorder.resolve((SiteRecorder.Capture) f);
        freedAt = resolved;
        return resolved;
    }
}
