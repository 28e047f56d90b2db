package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingStream;
import org.junit.jupiter.api.Test;

/** What the JFR events and the MXBean promise a monitoring tool: every figure, its unit, one series a heap. */
class MonitoringContractTest {

    /**
     * A request too large for any heap (above the 256 TiB a CHECKED header holds) is refused by both modes with
     * HeapExhaustedException; FAST emits org.malloc4j.HeapExhausted, CHECKED emitted nothing.
     */
    @Test
    void aCheckedHeapReportsTheRefusalOfAnImpossibleRequest() throws Exception {
        List<RecordedEvent> seen = new CopyOnWriteArrayList<>();
        try (RecordingStream rs = new RecordingStream()) {
            rs.setReuse(false); // events are kept past their action: by default the stream reuses one object
            rs.enable("org.malloc4j.HeapExhausted");
            rs.onEvent("org.malloc4j.HeapExhausted", e -> {
                if (e.getString("heap").startsWith("review-huge-")) seen.add(e);
            });
            rs.startAsync();
            for (HeapMode mode : HeapMode.values()) {
                try (Heap heap = Heap.builder().name("review-huge-" + mode).mode(mode).jmx(false).build()) {
                    assertThatThrownBy(() -> heap.malloc(1L << 50)).isInstanceOf(HeapExhaustedException.class);
                }
            }
            assertThat(rs.stop()).isTrue(); // every event recorded before it delivered (a flush callback is not)
        }
        assertThat(seen).extracting(e -> e.getString("heap") + " " + e.getLong("request"))
                .containsExactlyInAnyOrder("review-huge-FAST " + (1L << 50), "review-huge-CHECKED " + (1L << 50));
    }

    /**
     * The events' fractions (0..1) carry no @Percentage and the block address no @MemoryAddress, so JMC and
     * {@code jfr print} show 0.6666 and a decimal address instead of 66.67 % and 0x7f...
     */
    @Test
    void fractionsArePercentagesAndAddressesAreMemoryAddresses() throws Exception {
        Map<String, RecordedEvent> seen = new ConcurrentHashMap<>();
        CountDownLatch all = new CountDownLatch(3);
        try (RecordingStream rs = new RecordingStream()) {
            rs.setReuse(false); // events are kept past their action: by default the stream reuses one object
            for (String n : new String[] {"org.malloc4j.HeapStatistics", "org.malloc4j.LargeAllocation",
                    "org.malloc4j.HeapExhausted"}) {
                rs.enable(n).withPeriod(Duration.ofMillis(10));
                rs.onEvent(n, e -> {
                    if ("review-units".equals(e.getString("heap")) && seen.putIfAbsent(n, e) == null) {
                        all.countDown();
                    }
                });
            }
            rs.startAsync();
            try (Heap heap = Heap.builder().name("review-units").limit(8L << 20).jmx(false).build()) {
                long p = heap.malloc(2L << 20);
                assertThatThrownBy(() -> heap.malloc(16L << 20)).isInstanceOf(HeapExhaustedException.class);
                assertThat(all.await(30, TimeUnit.SECONDS)).isTrue();
                heap.free(p);
            }
        }
        assertThat(contentType(seen.get("org.malloc4j.HeapStatistics"), "utilization")).isEqualTo("jdk.jfr.Percentage");
        assertThat(contentType(seen.get("org.malloc4j.HeapStatistics"), "externalFragmentation"))
                .isEqualTo("jdk.jfr.Percentage");
        assertThat(contentType(seen.get("org.malloc4j.HeapExhausted"), "externalFragmentation"))
                .isEqualTo("jdk.jfr.Percentage");
        assertThat(contentType(seen.get("org.malloc4j.LargeAllocation"), "address")).isEqualTo("jdk.jfr.MemoryAddress");
    }

    private static String contentType(RecordedEvent e, String field) {
        return e.getEventType().getField(field).getContentType();
    }

    /**
     * The MBean is to expose HeapStats: FreeBytes, ResidentBytes (the resident estimate), ThreadCaches, MetadataBytes
     * and PeakFootprintBytes are missing from it.
     */
    @Test
    void theMBeanExposesEveryFigureOfHeapStats() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try (Heap heap = Heap.builder().name("review-mbean").jmx(true).build()) {
            heap.free(heap.malloc(100));
            List<String> attributes = Arrays.stream(server.getMBeanInfo(
                    new ObjectName("org.malloc4j:type=Heap,name=\"review-mbean\"")).getAttributes())
                    .map(MBeanAttributeInfo::getName).toList();
            List<String> figures = Arrays.stream(HeapStats.class.getRecordComponents())
                    .map(c -> Character.toUpperCase(c.getName().charAt(0)) + c.getName().substring(1)).toList();
            assertThat(attributes).containsAll(figures);
        }
    }
    /**
     * Two open heaps of one name: the MBeans are told apart ("twin", "twin#2"), the periodic JFR events are not
     * (both say heap = "twin"), so a JFR consumer cannot tell which heap's figures an event holds.
     */
    @Test
    void periodicEventsOfTwoHeapsOfOneNameCanBeToldApart() throws Exception {
        Map<Long, String> liveToHeap = new ConcurrentHashMap<>();
        CountDownLatch both = new CountDownLatch(2);
        try (RecordingStream rs = new RecordingStream()) {
            rs.setReuse(false); // events are kept past their action: by default the stream reuses one object
            rs.enable("org.malloc4j.HeapStatistics").withPeriod(Duration.ofMillis(10));
            rs.onEvent("org.malloc4j.HeapStatistics", e -> {
                long live = e.getLong("live");
                if ((live == 1000 || live == 2000) && liveToHeap.putIfAbsent(live, e.getString("heap")) == null) {
                    both.countDown();
                }
            });
            rs.startAsync();
            try (Heap a = Heap.builder().name("review-twin").jmx(true).build();
                    Heap b = Heap.builder().name("review-twin").jmx(true).build()) {
                a.malloc(1000);
                b.malloc(2000);
                assertThat(both.await(30, TimeUnit.SECONDS)).isTrue();
                MBeanServer server = ManagementFactory.getPlatformMBeanServer();
                // the events' label is the MBean's name: a tool can join the two
                for (long live : new long[] {1000, 2000}) {
                    ObjectName mbean = new ObjectName("org.malloc4j:type=Heap,name="
                            + ObjectName.quote(liveToHeap.get(live)));
                    assertThat(server.getAttribute(mbean, "LiveBytes")).isEqualTo(live);
                }
            }
        }
        assertThat(liveToHeap.values()).containsExactlyInAnyOrder("review-twin", "review-twin#2");
    }

    /**
     * A heap MBean of the same name registered already by another copy of this library (another class loader's,
     * whose labels are its own): the heaps here must still carry, in their events, the names of their own MBeans. The
     * first heap's events said "review-foreign" (the other copy's MBean) while its MBean was "review-foreign#2", and
     * the second heap's events said "review-foreign#2", the first heap's MBean: a tool joining the two by name read
     * one heap's events against another heap's figures.
     */
    @Test
    void eventsNameTheirHeapsOwnMBeanWhenAnotherCopyHasTheName() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName foreign = new ObjectName("org.malloc4j:type=Heap,name=" + ObjectName.quote("review-foreign"));
        server.registerMBean(new javax.management.StandardMBean(() -> {}, Runnable.class), foreign);
        java.nio.file.Path file = java.nio.file.Files.createTempFile("malloc4j-foreign", ".jfr");
        try (jdk.jfr.Recording r = new jdk.jfr.Recording();
                Heap a = Heap.builder().name("review-foreign").jmx(true).build();
                Heap b = Heap.builder().name("review-foreign").jmx(true).build()) {
            r.enable("org.malloc4j.LargeAllocation");
            r.start();
            long pa = a.malloc(2L << 20), pb = b.malloc(3L << 20);
            r.stop();
            r.dump(file);
            List<RecordedEvent> ev = jdk.jfr.consumer.RecordingFile.readAllEvents(file).stream()
                    .filter(e -> e.getEventType().getName().equals("org.malloc4j.LargeAllocation")
                            && e.getString("heap").startsWith("review-foreign")).toList();
            assertThat(ev).hasSize(2);
            for (RecordedEvent e : ev) {
                ObjectName own = new ObjectName("org.malloc4j:type=Heap,name=" + ObjectName.quote(e.getString("heap")));
                assertThat(server.isRegistered(own)).as(e.getString("heap")).isTrue();
                assertThat(server.getAttribute(own, "LiveBytes")).as(e.getString("heap")).isEqualTo(e.getLong("size"));
            }
            a.free(pa);
            b.free(pb);
        } finally {
            server.unregisterMBean(foreign);
            java.nio.file.Files.deleteIfExists(file);
        }
    }

    /**
     * The attributes of one getAttributes call (a console's refresh) come from one reading of the heap's figures, so
     * that they agree with each other while other threads allocate: live blocks are mallocs minus frees, free bytes
     * are committed minus live.
     */
    @Test
    void theAttributesOfOneReadAgreeWithEachOther() throws Exception {
        try (Heap heap = Heap.builder().name("one-read").jmx(true).build()) {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            ObjectName name = new ObjectName("org.malloc4j:type=Heap,name=" + ObjectName.quote("one-read"));
            String[] names = {"LiveBlocks", "MallocCount", "FreeCount", "FreeBytes", "CommittedBytes", "LiveBytes"};
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            Thread churn = Thread.ofPlatform().start(() -> {
                long[] blocks = new long[64];
                for (int i = 0; !stop.get(); i++) {
                    int k = i & 63;
                    if (blocks[k] != 0) heap.free(blocks[k]);
                    blocks[k] = heap.malloc(16 + (i * 37 & 4095));
                }
                for (long b : blocks) if (b != 0) heap.free(b);
            });
            try {
                for (int read = 0; read < 2000; read++) {
                    List<javax.management.Attribute> a = server.getAttributes(name, names).asList();
                    long[] v = a.stream().mapToLong(x -> ((Number) x.getValue()).longValue()).toArray();
                    assertThat(v).hasSize(names.length);
                    assertThat(v[0]).as("live blocks against mallocs - frees, read %d", read).isEqualTo(v[1] - v[2]);
                    assertThat(v[3]).as("free bytes against committed - live, read %d", read)
                            .isEqualTo(Math.max(0, v[4] - v[5]));
                }
            } finally {
                stop.set(true);
                churn.join();
            }
        }
    }
}
