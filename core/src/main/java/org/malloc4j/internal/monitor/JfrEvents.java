package org.malloc4j.internal.monitor;

import jdk.jfr.FlightRecorder;
import jdk.jfr.FlightRecorderListener;
import org.malloc4j.Heap;
import org.malloc4j.HeapStats;

/**
 * The JFR half of {@link Monitoring}: the events and the periodic statistics. Loaded only when the {@code jdk.jfr}
 * module is in the runtime ({@link Monitoring#JFR}), so that a runtime image without it (a {@code jlink} of
 * {@code java.base} alone, say) runs the heap without its events instead of failing with
 * {@link NoClassDefFoundError}. Each emitter is cheap when JFR is not recording: the event object does not escape,
 * and nothing is computed unless it should commit.
 */
final class JfrEvents {
    private JfrEvents() {}

    /**
     * The periodic statistics event's hook, one object for its life: JFR tells hooks apart by identity. It is
     * registered with JFR while some monitored heap is open and JFR has started, not before: registering it initializes
     * JFR's machinery in the JVM (measured: 8 MiB of resident memory and 0.2 s), which a program that never records
     * should not pay for; until JFR starts (a recording started later, JFR.start over jcmd, say) a listener waits for
     * it. Both are removed when the last heap closes: JFR held them for good, and with them this library's classes, so
     * that a program that loaded the library in a class loader of its own (a web application) and closed its heaps
     * could never unload that loader (LoaderUnloadsAfterItsHeapsCloseTest).
     */
    private static final Runnable HOOK = JfrEvents::emitStatistics;
    /**
     * Guards {@link #open} and {@link #waiting}: taken when a heap opens or closes, never on an allocation path, and
     * never in a JFR callback. JFR calls its listeners under a lock of its own, which adding or removing a listener
     * takes: the listener takes only {@link #HOOK_LOCK}, and nothing calls those two while it holds that one.
     */
    private static final Object LIFECYCLE = new Object();
    /** The monitored heaps open. Guarded by {@link #LIFECYCLE}. */
    private static int open;
    /** The listener registered while JFR had not started, or null. Guarded by {@link #LIFECYCLE}. */
    private static FlightRecorderListener waiting;
    /** Whether some heap is open, for the listener: written under {@link #LIFECYCLE}, read under {@link #HOOK_LOCK}. */
    private static volatile boolean wanted;
    /** Guards {@link #hooked}. */
    private static final Object HOOK_LOCK = new Object();
    /** Whether {@link #HOOK} is registered with JFR. Guarded by {@link #HOOK_LOCK}. */
    private static boolean hooked;

    /** A monitored heap opened: the hook is registered now, or when JFR starts, if it is not yet. */
    static void opened() {
        synchronized (LIFECYCLE) {
            if (open++ > 0) return;
            wanted = true;
            if (FlightRecorder.isInitialized()) {
                hook();
            } else {
                waiting = new Started();
                FlightRecorder.addListener(waiting); // runs it at once if JFR has started meanwhile
            }
        }
    }

    /** A monitored heap closed: with the last one, JFR forgets the hook and the listener. */
    static void closed() {
        synchronized (LIFECYCLE) {
            if (--open > 0) return;
            wanted = false;
            if (waiting != null) {
                FlightRecorder.removeListener(waiting);
                waiting = null;
            }
            synchronized (HOOK_LOCK) {
                if (hooked) FlightRecorder.removePeriodicEvent(HOOK);
                hooked = false;
            }
        }
    }

    /** Registers {@link #HOOK} if a heap is open and it is not registered. */
    private static void hook() {
        synchronized (HOOK_LOCK) {
            if (!wanted || hooked) return;
            try {
                FlightRecorder.addPeriodicEvent(HeapStatisticsEvent.class, HOOK);
                hooked = true;
            } catch (RuntimeException e) { // a heap is no less usable without its statistics, nor JFR's start
                Monitoring.LOG.log(System.Logger.Level.DEBUG, "no periodic statistics event", e);
            }
        }
    }

    /** Waits for JFR to start, then registers the hook; its work done, it leaves (JFR starts once). */
    private static final class Started implements FlightRecorderListener {
        @Override
        public void recorderInitialized(FlightRecorder recorder) {
            hook();
            FlightRecorder.removeListener(this);
        }
    }

    private static void emitStatistics() {
        for (Monitoring.Watched watched : Monitoring.OPEN) {
            Heap heap = watched.heap();
            HeapStatisticsEvent e = new HeapStatisticsEvent();
            if (!e.shouldCommit()) return;
            HeapStats s;
            try {
                s = heap.stats();
            } catch (IllegalStateException closed) {
                continue;
            } catch (RuntimeException failed) { // one heap's failure must not take the other heaps' events with it
                Monitoring.LOG.log(System.Logger.Level.DEBUG, "no statistics event for heap " + watched.label(), failed);
                continue;
            }
            e.heap = watched.label();
            e.live = s.liveBytes();
            e.peakLive = s.peakLiveBytes();
            e.committed = s.committedBytes();
            e.retained = s.retainedBytes();
            e.resident = s.residentBytes(); // stats() has scanned for it anyway
            e.reserved = s.reservedBytes();
            e.mallocs = s.mallocCount();
            e.frees = s.freeCount();
            e.purges = s.purgeCount();
            e.largestFreeBlock = s.largestFreeBlock();
            e.externalFragmentation = s.externalFragmentation();
            e.utilization = s.utilization();
            e.commit();
        }
    }

    /** Emits {@link LargeAllocationEvent}. */
    static void largeAllocation(String heap, long address, long size) {
        LargeAllocationEvent e = new LargeAllocationEvent();
        if (e.shouldCommit()) {
            e.heap = heap;
            e.address = address;
            e.size = size;
            e.commit();
        }
    }

    /** Emits {@link PurgeEvent}. */
    static void purge(String heap, long bytes) {
        PurgeEvent e = new PurgeEvent();
        if (e.shouldCommit()) {
            e.heap = heap;
            e.bytes = bytes;
            e.commit();
        }
    }

    /** Emits {@link ExhaustionEvent}. */
    static void exhausted(String heap, long request, long limit, long committed, long live, long freeBytes,
            long largestFreeBlock) {
        ExhaustionEvent e = new ExhaustionEvent();
        if (e.shouldCommit()) {
            e.heap = heap;
            e.request = request;
            e.limit = limit;
            e.committed = committed;
            e.live = live;
            e.freeBytes = freeBytes;
            e.largestFreeBlock = largestFreeBlock;
            e.externalFragmentation = e.freeBytes == 0 ? 0 : 1 - (double) Math.min(largestFreeBlock, e.freeBytes)
                    / e.freeBytes;
            e.commit();
        }
    }

    /** Emits {@link LeakEvent}. */
    static void leak(String heap, String kind, long blocks, long bytes, boolean reclaimed, String report) {
        LeakEvent e = new LeakEvent();
        if (e.shouldCommit()) {
            e.heap = heap;
            e.kind = kind;
            e.blocks = blocks;
            e.bytes = bytes;
            e.reclaimed = reclaimed;
            e.report = report;
            e.commit();
        }
    }
}
