package org.malloc4j.internal.monitor;

import java.util.List;
import java.util.function.Supplier;
import org.malloc4j.Heap;
import org.malloc4j.HeapDamage;
import org.malloc4j.HeapMXBean;
import org.malloc4j.HeapStats;

/**
 * A heap as its MXBean: an attribute read alone reads a fresh {@link Heap#stats()}; the attributes of one
 * {@code getAttributes} call (a console's refresh) share one ({@link #inBatch}), so that they agree with each other and
 * the heap is not asked, with a {@code mincore} scan each time, once per attribute.
 */
final class HeapMXBeanAdapter implements HeapMXBean {
    private final Heap heap;
    /** The figures of the {@code getAttributes} call this thread is in, if any. */
    private final ThreadLocal<HeapStats> batch = new ThreadLocal<>();

    HeapMXBeanAdapter(Heap heap) {
        this.heap = heap;
    }

    /** Runs {@code read} (the reads of several attributes) with one {@link Heap#stats()} for all of them. */
    <T> T inBatch(Supplier<T> read) {
        HeapStats s;
        try {
            s = heap.stats();
        } catch (IllegalStateException closed) {
            return read.get(); // each attribute then says so, as it does read alone
        }
        batch.set(s);
        try {
            return read.get();
        } finally {
            batch.remove();
        }
    }

    private HeapStats stats() {
        HeapStats s = batch.get();
        return s != null ? s : heap.stats();
    }

    @Override public String getName() { return heap.name(); }
    @Override public String getMode() { return heap.mode().name(); }
    @Override public long getLiveBytes() { return stats().liveBytes(); }
    @Override public long getPeakLiveBytes() { return stats().peakLiveBytes(); }
    @Override public long getCommittedBytes() { return stats().committedBytes(); }
    @Override public long getPeakCommittedBytes() { return stats().peakCommittedBytes(); }
    @Override public long getReservedBytes() { return stats().reservedBytes(); }
    @Override public long getRetainedBytes() { return stats().retainedBytes(); }
    @Override public long getFreeBytes() { return stats().freeBytes(); }
    @Override public long getResidentBytes() { return stats().residentBytes(); }
    @Override public long getMetadataBytes() { return stats().metadataBytes(); }
    @Override public long getPeakFootprintBytes() { return stats().peakFootprintBytes(); }
    @Override public int getThreadCaches() { return stats().threadCaches(); }
    @Override public long getLargestFreeBlock() { return stats().largestFreeBlock(); }
    @Override public long getMallocCount() { return stats().mallocCount(); }
    @Override public long getFreeCount() { return stats().freeCount(); }
    @Override public long getLiveBlocks() { return stats().liveBlocks(); }
    @Override public long getPurgeCount() { return stats().purgeCount(); }
    @Override public double getExternalFragmentation() { return stats().externalFragmentation(); }
    @Override public double getUtilization() { return stats().utilization(); }
    @Override public void trim() { heap.trim(); }
    @Override public List<String> verify() { return heap.verify().stream().map(HeapDamage::toString).toList(); }
    @Override public String leaks() { return heap.leaks().toString(); }
}
