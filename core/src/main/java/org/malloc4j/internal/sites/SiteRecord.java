package org.malloc4j.internal.sites;

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
    public final Site site;
    public final String thread;
    /** The number of bytes this sample stands for (1/probability of sampling it, times its size). */
    public final double weight;
    /** Set when the block is freed, by whom, if that free was sampled too (CHECKED double-free reports). */
    public volatile Site freedAt;

    SiteRecord(long address, long size, Site site, String thread, double weight) {
        this.address = address;
        this.size = size;
        this.site = site;
        this.thread = thread;
        this.weight = weight;
    }
}
