package org.malloc4j;

import java.util.List;

/**
 * The management interface of a heap, registered with the platform MBean server as
 * {@code org.malloc4j:type=Heap,name="<heap name>"} (the name quoted as {@code ObjectName.quote} quotes it; a second
 * open heap of the same name gets {@code "<heap name>#2"}) while the heap is open: always with
 * {@link Heap.Builder#jmx(boolean) jmx(true)}, by default when the platform MBean server already exists when the heap
 * is built (the program or an agent uses JMX). Attributes are the figures of {@link HeapStats}; operations
 * {@link #trim()}, {@link #verify()} and {@link #leaks()} do what the heap's methods of the same names do.
 */
public interface HeapMXBean {
    /** {@return the heap's name} */
    String getName();

    /** {@return the heap's mode, FAST or CHECKED} */
    String getMode();

    /** {@return bytes requested by live blocks} */
    long getLiveBytes();

    /** {@return the highest live bytes seen} */
    long getPeakLiveBytes();

    /** {@return bytes taken from the OS} */
    long getCommittedBytes();

    /** {@return the highest committed bytes seen} */
    long getPeakCommittedBytes();

    /** {@return address space reserved} */
    long getReservedBytes();

    /** {@return committed bytes in free page runs, waiting for the decay time} */
    long getRetainedBytes();

    /** {@return committed bytes not holding a live block, as {@link HeapStats#freeBytes()} counts them} */
    long getFreeBytes();

    /** {@return bytes of the heap's range resident in RAM now (a mincore estimate)} */
    long getResidentBytes();

    /** {@return Java-heap bytes of the heap's own bookkeeping} */
    long getMetadataBytes();

    /** {@return the largest committed bytes plus bookkeeping seen} */
    long getPeakFootprintBytes();

    /** {@return thread caches in use} */
    int getThreadCaches();

    /** {@return the largest committed free block} */
    long getLargestFreeBlock();

    /** {@return allocations so far} */
    long getMallocCount();

    /** {@return frees so far} */
    long getFreeCount();

    /** {@return live blocks} */
    long getLiveBlocks();

    /** {@return purges (calls that gave pages back to the OS, moves of free pages included) so far} */
    long getPurgeCount();

    /** {@return 1 - largest free block / free committed bytes} */
    double getExternalFragmentation();

    /** {@return peak live bytes / peak committed bytes (the malloc-lab measure; {@link HeapStats#utilization()})} */
    double getUtilization();

    /**
     * {@link Heap#trim()}, on the management thread: the free page runs go back to the OS now, with the empty slabs of
     * the virtual threads' stripes and of threads that ended, and the stack blocks of ended threads are taken back;
     * the caches of live threads keep their spares.
     */
    void trim();

    /**
     * {@return the damage found by a walk of the heap, one entry per damaged block, its {@link HeapDamage}'s text
     * (several lines when sites are recorded; empty in FAST mode)}
     */
    List<String> verify();

    /** {@return the live blocks grouped by allocation site, as text} */
    String leaks();
}
