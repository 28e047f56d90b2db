package org.malloc4j.internal.monitor;

import jdk.jfr.FlightRecorder;
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

    /** Registers the periodic statistics event, now or when JFR starts (once). */
    static void startPeriodic() {
        Periodic.init();
    }

    /**
     * The periodic statistics event is registered with JFR when JFR starts, not before: registering it initializes
     * JFR's machinery in the JVM (measured: 8 MiB of resident memory and 0.2 s), which a program that never records
     * should not pay for. A recording started later (JFR.start over jcmd, say) initializes JFR and, with it, this.
     */
    private static final class Periodic {
        static {
            if (FlightRecorder.isInitialized()) {
                addPeriodic();
            } else {
                FlightRecorder.addListener(new jdk.jfr.FlightRecorderListener() {
                    @Override
                    public void recorderInitialized(FlightRecorder recorder) {
                        addPeriodic();
                    }
                });
            }
        }

        private static void addPeriodic() {
            FlightRecorder.addPeriodicEvent(HeapStatisticsEvent.class, JfrEvents::emitStatistics);
        }

        static void init() {}
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
