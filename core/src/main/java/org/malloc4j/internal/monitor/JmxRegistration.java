package org.malloc4j.internal.monitor;

import java.lang.management.ManagementFactory;
import javax.management.AttributeList;
import javax.management.InstanceAlreadyExistsException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.NotCompliantMBeanException;
import javax.management.ObjectName;
import javax.management.StandardMBean;
import org.malloc4j.Heap;
import org.malloc4j.HeapMXBean;

/**
 * The JMX half of {@link Monitoring}: each heap's {@link HeapMXBean} on the platform MBean server. Loaded only when
 * the {@code java.management} module is in the runtime ({@link Monitoring#JMX}).
 */
final class JmxRegistration {
    private JmxRegistration() {}

    /** Unregisters a heap's MBean. */
    static void unregister(Object name) {
        try {
            ManagementFactory.getPlatformMBeanServer().unregisterMBean((ObjectName) name);
        } catch (JMException e) {
            Monitoring.LOG.log(System.Logger.Level.DEBUG, "could not unregister " + name, e);
        }
    }

    /** @return whether the platform MBean server exists already (a program or an agent uses JMX) */
    static boolean serverExists() {
        return !javax.management.MBeanServerFactory.findMBeanServer(null).isEmpty();
    }

    /**
     * @return whether the MBean name of {@code label} is registered (by another copy of this library); false, without
     *         starting it, when the platform MBean server does not exist
     */
    static boolean taken(String label) {
        if (!serverExists()) return false;
        try {
            return ManagementFactory.getPlatformMBeanServer().isRegistered(nameOf(label));
        } catch (MalformedObjectNameException e) {
            return false; // quoted: cannot happen
        }
    }

    private static ObjectName nameOf(String label) throws MalformedObjectNameException {
        return new ObjectName("org.malloc4j:type=Heap,name=" + ObjectName.quote(label));
    }

    /** Registers a heap's MBean; returns its name, or null when it could not be registered. */
    static ObjectName register(Heap heap, String label) {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        String base = label;
        for (int n = 1; ; n++) {
            try {
                ObjectName name = nameOf(n == 1 ? base : base + "#" + n);
                server.registerMBean(new Batched(new HeapMXBeanAdapter(heap)), name);
                return name;
            } catch (InstanceAlreadyExistsException e) {
                // registered since the label was chosen (another copy of this library's): number it
            } catch (JMException e) {
                Monitoring.LOG.log(System.Logger.Level.WARNING, "could not register heap " + base + " with JMX", e);
                return null;
            }
        }
    }

    /** The heap's MXBean, whose {@code getAttributes} reads the heap's figures once for all the attributes asked. */
    private static final class Batched extends StandardMBean {
        private final HeapMXBeanAdapter adapter;

        Batched(HeapMXBeanAdapter adapter) throws NotCompliantMBeanException {
            super(adapter, HeapMXBean.class, true);
            this.adapter = adapter;
        }

        @Override
        public AttributeList getAttributes(String[] attributes) {
            return adapter.inBatch(() -> super.getAttributes(attributes));
        }
    }
}
