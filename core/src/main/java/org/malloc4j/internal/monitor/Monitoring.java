package org.malloc4j.internal.monitor;

import java.lang.management.ManagementFactory;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.management.InstanceAlreadyExistsException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.StandardMBean;
import jdk.jfr.FlightRecorder;
import org.malloc4j.Heap;
import org.malloc4j.HeapMXBean;
import org.malloc4j.HeapStats;

/**
 * Where heaps meet the JVM's monitoring: JMX registration of each heap's {@link HeapMXBean}, the periodic JFR
 * statistics event for every open heap, and the JFR events the heap emits on its slow paths. Each emitter is cheap
 * when JFR is not recording: the event object does not escape, and nothing is computed unless it should commit.
 */
public final class Monitoring {
    private static final CopyOnWriteArrayList<Heap> OPEN = new CopyOnWriteArrayList<>();
    private static final System.Logger LOG = System.getLogger("org.malloc4j");

    private Monitoring() {}

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
            FlightRecorder.addPeriodicEvent(HeapStatisticsEvent.class, Monitoring::emitStatistics);
        }

        static void init() {}
    }

    /**
     * Starts monitoring a new heap; returns its MBean's name, or null when it is not registered.
     *
     * @param jmx {@code TRUE} registers the heap's MBean, {@code FALSE} does not, null registers it when the platform
     *        MBean server exists already (the program or an agent uses JMX), so that a program without JMX does not
     *        start the server for the heap's sake (measured: 12 MiB of resident memory and 0.1 s)
     */
    public static ObjectName open(Heap heap, Boolean jmx) {
        Periodic.init();
        OPEN.add(heap);
        boolean register = jmx != null ? jmx : !javax.management.MBeanServerFactory.findMBeanServer(null).isEmpty();
        return register ? register(heap) : null;
    }

    /** Stops monitoring a heap that is closing. */
    public static void close(Heap heap, ObjectName name) {
        OPEN.remove(heap);
        if (name == null) return;
        try {
            ManagementFactory.getPlatformMBeanServer().unregisterMBean(name);
        } catch (JMException e) {
            LOG.log(System.Logger.Level.DEBUG, "could not unregister " + name, e);
        }
    }

    private static ObjectName register(Heap heap) {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        String base = heap.name();
        for (int n = 1; ; n++) {
            try {
                ObjectName name = new ObjectName("org.malloc4j:type=Heap,name="
                        + ObjectName.quote(n == 1 ? base : base + "#" + n));
                server.registerMBean(new StandardMBean(new HeapMXBeanAdapter(heap), HeapMXBean.class, true), name);
                return name;
            } catch (InstanceAlreadyExistsException e) {
                // another heap has this name: number this one
            } catch (JMException e) {
                LOG.log(System.Logger.Level.WARNING, "could not register heap " + base + " with JMX", e);
                return null;
            }
        }
    }

    private static void emitStatistics() {
        for (Heap heap : OPEN) {
            HeapStatisticsEvent e = new HeapStatisticsEvent();
            if (!e.shouldCommit()) return;
            HeapStats s;
            try {
                s = heap.stats();
            } catch (IllegalStateException closed) {
                continue;
            }
            e.heap = heap.name();
            e.live = s.liveBytes();
            e.peakLive = s.peakLiveBytes();
            e.committed = s.committedBytes();
            e.retained = s.retainedBytes();
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
    public static void largeAllocation(String heap, long address, long size) {
        LargeAllocationEvent e = new LargeAllocationEvent();
        if (e.shouldCommit()) {
            e.heap = heap;
            e.address = address;
            e.size = size;
            e.commit();
        }
    }

    /** Emits {@link PurgeEvent}. */
    public static void purge(String heap, long bytes) {
        PurgeEvent e = new PurgeEvent();
        if (e.shouldCommit()) {
            e.heap = heap;
            e.bytes = bytes;
            e.commit();
        }
    }

    /** Emits {@link ExhaustionEvent}. */
    public static void exhausted(String heap, long request, long limit, long committed, long live,
            long largestFreeBlock) {
        ExhaustionEvent e = new ExhaustionEvent();
        if (e.shouldCommit()) {
            e.heap = heap;
            e.request = request;
            e.limit = limit;
            e.committed = committed;
            e.live = live;
            e.freeBytes = Math.max(0, committed - live);
            e.largestFreeBlock = largestFreeBlock;
            e.externalFragmentation = e.freeBytes == 0 ? 0 : 1 - (double) Math.min(largestFreeBlock, e.freeBytes)
                    / e.freeBytes;
            e.commit();
        }
    }

    /** Emits {@link LeakEvent}. */
    public static void leak(String heap, String kind, long blocks, long bytes, boolean reclaimed, String report) {
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
