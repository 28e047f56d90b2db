package org.malloc4j.internal.monitor;

import java.util.List;
import org.malloc4j.Heap;
import org.malloc4j.HeapDamage;
import org.malloc4j.HeapMXBean;

/** A heap as its MXBean: each attribute reads a fresh {@link Heap#stats()}. */
final class HeapMXBeanAdapter implements HeapMXBean {
    private final Heap heap;

    HeapMXBeanAdapter(Heap heap) {
        this.heap = heap;
    }

    @Override public String getName() { return heap.name(); }
    @Override public String getMode() { return heap.mode().name(); }
    @Override public long getLiveBytes() { return heap.stats().liveBytes(); }
    @Override public long getPeakLiveBytes() { return heap.stats().peakLiveBytes(); }
    @Override public long getCommittedBytes() { return heap.stats().committedBytes(); }
    @Override public long getPeakCommittedBytes() { return heap.stats().peakCommittedBytes(); }
    @Override public long getReservedBytes() { return heap.stats().reservedBytes(); }
    @Override public long getRetainedBytes() { return heap.stats().retainedBytes(); }
    @Override public long getFreeBytes() { return heap.stats().freeBytes(); }
    @Override public long getResidentBytes() { return heap.stats().residentBytes(); }
    @Override public long getMetadataBytes() { return heap.stats().metadataBytes(); }
    @Override public long getPeakFootprintBytes() { return heap.stats().peakFootprintBytes(); }
    @Override public int getThreadCaches() { return heap.stats().threadCaches(); }
    @Override public long getLargestFreeBlock() { return heap.stats().largestFreeBlock(); }
    @Override public long getMallocCount() { return heap.stats().mallocCount(); }
    @Override public long getFreeCount() { return heap.stats().freeCount(); }
    @Override public long getLiveBlocks() { return heap.stats().liveBlocks(); }
    @Override public long getPurgeCount() { return heap.stats().purgeCount(); }
    @Override public double getExternalFragmentation() { return heap.stats().externalFragmentation(); }
    @Override public double getUtilization() { return heap.stats().utilization(); }
    @Override public void trim() { heap.trim(); }
    @Override public List<String> verify() { return heap.verify().stream().map(HeapDamage::toString).toList(); }
    @Override public String leaks() { return heap.leaks().toString(); }
}
