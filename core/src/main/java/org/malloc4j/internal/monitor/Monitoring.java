package org.malloc4j.internal.monitor;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.malloc4j.Heap;

/**
 * Where heaps meet the JVM's monitoring: JMX registration of each heap's {@link org.malloc4j.HeapMXBean}, the
 * periodic JFR statistics event for every open heap, and the JFR events the heap emits on its slow paths.
 *
 * <p>Both are optional at run time. The module declares {@code requires jdk.jfr} and {@code requires java.management},
 * so that a program on the module path, or an image made by {@code jlink}, has them; but a program on the class path
 * can run on a runtime image without them, and then the heap works without its events or its MBean instead of
 * failing with {@link NoClassDefFoundError}: the classes that use them ({@link JfrEvents}, {@link JmxRegistration})
 * are loaded only when their module is present.
 */
public final class Monitoring {
    /** Whether the {@code jdk.jfr} module is in this runtime: the JFR events are emitted only then. */
    static final boolean JFR = ModuleLayer.boot().findModule("jdk.jfr").isPresent();
    /** Whether the {@code java.management} module is in this runtime: heaps are MBeans only then. */
    static final boolean JMX = ModuleLayer.boot().findModule("java.management").isPresent();

    /** An open heap and the label its events and MBean carry. */
    record Watched(Heap heap, String label) {}

    static final CopyOnWriteArrayList<Watched> OPEN = new CopyOnWriteArrayList<>();
    /** The labels of the heaps alive now; guarded by itself. */
    private static final Set<String> LABELS = new HashSet<>();
    static final System.Logger LOG = System.getLogger("org.malloc4j");

    private Monitoring() {}

    /**
     * Checks, before a heap reserves anything, that it can be monitored as asked.
     *
     * @param jmx the builder's {@code jmx} setting
     * @throws UnsupportedOperationException if {@code jmx} is {@code TRUE} and the runtime has no
     *         {@code java.management} module
     */
    public static void check(Boolean jmx) {
        if (jmx == Boolean.TRUE && !JMX) {
            throw new UnsupportedOperationException("jmx(true): this runtime has no java.management module (add it"
                    + " to the image, or build the heap with jmx(false))");
        }
    }

    /**
     * Names a new heap for its events and its MBean: its own name, or, while another live heap carries that label,
     * the name numbered ({@code name#2}, {@code name#3}...), so that two heaps built with one name are two series in
     * a JFR recording, as they are two MBeans. A label whose MBean name another copy of this library (another class
     * loader's, whose labels are its own) has registered is passed over too: its events would name that copy's MBean.
     * Given back by {@link #unlabel} when the heap closes.
     */
    public static String label(String name) {
        synchronized (LABELS) {
            for (int n = 1; ; n++) {
                String candidate = n == 1 ? name : name + "#" + n;
                if (!LABELS.contains(candidate) && !(JMX && JmxRegistration.taken(candidate))) {
                    LABELS.add(candidate);
                    return candidate;
                }
            }
        }
    }

    /** Gives back a label of {@link #label}: the heap that carried it is gone. */
    public static void unlabel(String label) {
        synchronized (LABELS) {
            LABELS.remove(label);
        }
    }

    /**
     * Starts monitoring a new heap; returns its MBean's name (a {@code javax.management.ObjectName}, typed
     * {@code Object} so that the caller does not need the module), or null when it is not registered.
     *
     * @param jmx {@code TRUE} registers the heap's MBean, {@code FALSE} does not, null registers it when the platform
     *        MBean server exists already (the program or an agent uses JMX), so that a program without JMX does not
     *        start the server for the heap's sake (measured: 12 MiB of resident memory and 0.1 s)
     */
    public static Object open(Heap heap, String label, Boolean jmx) {
        boolean register = JMX && (jmx != null ? jmx : JmxRegistration.serverExists());
        Object name = register ? JmxRegistration.register(heap, label) : null;
        OPEN.add(new Watched(heap, label)); // after the MBean: a registration that throws leaves no heap to JFR
        if (JFR) JfrEvents.opened();
        return name;
    }

    /** Stops monitoring a heap that is closing (its core gives back its label when it closes). */
    public static void close(Heap heap, Object mbean) {
        if (OPEN.removeIf(w -> w.heap() == heap) && JFR) JfrEvents.closed();
        if (mbean != null) JmxRegistration.unregister(mbean);
    }

    /** Emits {@code org.malloc4j.LargeAllocation} (when JFR is in the runtime and records it). */
    public static void largeAllocation(String heap, long address, long size) {
        if (JFR) JfrEvents.largeAllocation(heap, address, size);
    }

    /** Emits {@code org.malloc4j.Purge}. */
    public static void purge(String heap, long bytes) {
        if (JFR) JfrEvents.purge(heap, bytes);
    }

    /** Emits {@code org.malloc4j.HeapExhausted}. */
    public static void exhausted(String heap, long request, long limit, long committed, long live, long freeBytes,
            long largestFreeBlock) {
        if (JFR) JfrEvents.exhausted(heap, request, limit, committed, live, freeBytes, largestFreeBlock);
    }

    /** Emits {@code org.malloc4j.Leak}. */
    public static void leak(String heap, String kind, long blocks, long bytes, boolean reclaimed, String report) {
        if (JFR) JfrEvents.leak(heap, kind, blocks, bytes, reclaimed, report);
    }
}
