package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.management.InstanceNotFoundException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingStream;
import org.junit.jupiter.api.Test;

/** The JMX MBean and the JFR events. */
class MonitoringTest {

    @Test
    void eachHeapIsAnMBeanWhileItIsOpen() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName name = new ObjectName("org.malloc4j:type=Heap,name=\"jmx-test\"");
        long p;
        try (Heap heap = Heap.builder().name("jmx-test").decay(Duration.ofHours(1)).build()) {
            p = heap.malloc(1000);
            long q = heap.malloc(1 << 20);
            heap.free(q);
            assertThat(server.getAttribute(name, "LiveBytes")).isEqualTo(1000L);
            assertThat(server.getAttribute(name, "MallocCount")).isEqualTo(2L);
            assertThat(server.getAttribute(name, "LiveBlocks")).isEqualTo(1L);
            assertThat(server.getAttribute(name, "Mode")).isEqualTo("FAST");
            assertThat((Long) server.getAttribute(name, "RetainedBytes")).isGreaterThanOrEqualTo(1L << 20);
            server.invoke(name, "trim", null, null);
            assertThat(heap.stats().retainedBytes()).isZero();
            assertThat((String[]) server.invoke(name, "verify", null, null)).isEmpty();
            assertThat((String) server.invoke(name, "leaks", null, null)).contains("1 live block(s), 1000 bytes");
            heap.free(p);
        }
        assertThatThrownBy(() -> server.getAttribute(name, "LiveBytes")).isInstanceOf(InstanceNotFoundException.class);
    }

    @Test
    void jmxFalseNeverRegisters() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try (Heap heap = Heap.builder().name("jmx-off").jmx(false).build()) {
            heap.malloc(1);
            assertThat(server.isRegistered(new ObjectName("org.malloc4j:type=Heap,name=\"jmx-off\""))).isFalse();
        }
    }

    @Test
    void heapsWithTheSameNameGetNumberedMBeans() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try (Heap a = Heap.builder().name("twin").build(); Heap b = Heap.builder().name("twin").build()) {
            a.malloc(1);
            b.malloc(2);
            assertThat(server.getAttribute(new ObjectName("org.malloc4j:type=Heap,name=\"twin\""), "LiveBytes"))
                    .isEqualTo(1L);
            assertThat(server.getAttribute(new ObjectName("org.malloc4j:type=Heap,name=\"twin#2\""), "LiveBytes"))
                    .isEqualTo(2L);
        }
    }

    @Test
    void jfrEventsCarryTheirFigures() throws Exception {
        Map<String, List<RecordedEvent>> seen = new ConcurrentHashMap<>();
        String[] names = {"org.malloc4j.LargeAllocation", "org.malloc4j.Purge", "org.malloc4j.HeapExhausted",
                "org.malloc4j.Leak", "org.malloc4j.HeapStatistics"};
        CountDownLatch statistics = new CountDownLatch(1);
        try (RecordingStream rs = new RecordingStream()) {
            rs.setReuse(false); // events are kept past their action: by default the stream reuses one object
            for (String n : names) {
                rs.enable(n).withPeriod(Duration.ofMillis(20));
                rs.onEvent(n, e -> {
                    seen.computeIfAbsent(n, k -> new CopyOnWriteArrayList<>()).add(e);
                    if (n.endsWith("HeapStatistics") && "jfr-test".equals(e.getString("heap"))
                            && e.getLong("live") >= 3 << 20) {
                        statistics.countDown();
                    }
                });
            }
            rs.startAsync();
            Heap heap = Heap.builder().name("jfr-test").limit(64L << 20).decay(Duration.ZERO)
                    .largeAllocationEvent(2 << 20).jmx(false).build();
            long big = heap.malloc(3 << 20);
            heap.free(heap.malloc(1 << 20)); // below the threshold: no event
            assertThatThrownBy(() -> heap.malloc(100L << 20)).isInstanceOf(HeapExhaustedException.class);
            assertThat(statistics.await(30, TimeUnit.SECONDS)).isTrue();
            heap.free(big); // decay 0: purged at once
            heap.malloc(777);
            heap.close(); // a leak of one block
            // stop() returns once every event recorded before it has been delivered. Flush callbacks prove nothing: the
            // stream runs them when it sees that a new segment was written, before it has read that segment's events,
            // and one still due for a segment it read before the frees (its thread was behind) counts as well; two
            // of them on a loaded machine came before the 3 MiB purge's segment was read (1 in 20 with a busy core)
            assertThat(rs.stop()).isTrue();
        }
        assertThat(mine(seen, "org.malloc4j.LargeAllocation")).singleElement().satisfies(e -> {
            assertThat(e.getLong("size")).isEqualTo(3 << 20);
            assertThat(e.getLong("address")).isNotZero();
            assertThat(e.getStackTrace()).isNotNull();
        });
        assertThat(mine(seen, "org.malloc4j.HeapExhausted")).singleElement().satisfies(e -> {
            assertThat(e.getLong("request")).isEqualTo(100L << 20);
            assertThat(e.getLong("limit")).isEqualTo(64L << 20);
            assertThat(e.getLong("committed")).isGreaterThanOrEqualTo(3 << 20);
            assertThat(e.getLong("live")).isGreaterThanOrEqualTo(3 << 20);
        });
        assertThat(mine(seen, "org.malloc4j.Purge")).isNotEmpty()
                .allSatisfy(e -> assertThat(e.getLong("bytes")).isPositive());
        assertThat(mine(seen, "org.malloc4j.Purge").stream().mapToLong(e -> e.getLong("bytes")).sum())
                .isGreaterThanOrEqualTo(3 << 20);
        assertThat(mine(seen, "org.malloc4j.Leak")).singleElement().satisfies(e -> {
            assertThat(e.getString("kind")).isEqualTo("close");
            assertThat(e.getLong("blocks")).isEqualTo(1);
            assertThat(e.getLong("bytes")).isEqualTo(777);
        });
        assertThat(mine(seen, "org.malloc4j.HeapStatistics")).isNotEmpty()
                .allSatisfy(e -> assertThat(e.getLong("reserved")).isEqualTo(64L << 30))
                .anySatisfy(e -> {
                    assertThat(e.getLong("mallocs")).isGreaterThanOrEqualTo(1);
                    assertThat(e.getLong("live")).isGreaterThanOrEqualTo(3 << 20);
                    assertThat(e.getLong("committed")).isGreaterThanOrEqualTo(3 << 20);
                });
    }

    @Test
    void aCheckedHeapsEventsAreInTheProgramsTerms() throws Exception {
        // The engine's block (red zones, its own address) and a refusal the quarantine then served were reported
        Map<String, List<RecordedEvent>> seen = new ConcurrentHashMap<>();
        String[] names = {"org.malloc4j.LargeAllocation", "org.malloc4j.HeapExhausted"};
        long p, grown;
        try (RecordingStream rs = new RecordingStream()) {
            rs.setReuse(false); // events are kept past their action: by default the stream reuses one object
            for (String n : names) {
                rs.enable(n);
                rs.onEvent(n, e -> seen.computeIfAbsent(n, k -> new CopyOnWriteArrayList<>()).add(e));
            }
            rs.startAsync();
            try (Heap heap = Heap.builder().name("jfr-checked").mode(HeapMode.CHECKED).quarantine(64L << 20)
                    .limit(8L << 20).jmx(false).build()) {
                heap.free(heap.malloc((1 << 20) - 20)); // below the threshold by its program bytes
                p = heap.malloc(1 << 20);
                heap.free(heap.malloc(5L << 20));
                grown = heap.malloc(5L << 20); // served once the quarantined 5 MiB leave it: no exhaustion
                heap.free(grown);
                heap.free(p);
                long q = heap.malloc(1 << 20);
                assertThatThrownBy(() -> heap.malloc(8L << 20)).isInstanceOf(HeapExhaustedException.class);
                heap.free(q);
            }
            assertThat(rs.stop()).isTrue(); // every event recorded before it delivered (a flush callback is not)
        }
        List<RecordedEvent> large = seen.getOrDefault("org.malloc4j.LargeAllocation", List.of()).stream()
                .filter(e -> "jfr-checked".equals(e.getString("heap"))).toList();
        assertThat(large).extracting(e -> e.getLong("size")).containsExactly(1L << 20, 5L << 20, 5L << 20, 1L << 20);
        assertThat(large.get(0).getLong("address")).isEqualTo(p);
        assertThat(seen.getOrDefault("org.malloc4j.HeapExhausted", List.of()).stream()
                .filter(e -> "jfr-checked".equals(e.getString("heap"))).toList()).singleElement().satisfies(e -> {
                    assertThat(e.getLong("request")).isEqualTo(8L << 20);
                    assertThat(e.getLong("live")).isEqualTo(1L << 20);
                });
    }

    @Test
    void aBlockGrownInPlaceToALargeSizeIsALargeAllocation() throws Exception {
        List<RecordedEvent> seen = new CopyOnWriteArrayList<>();
        try (RecordingStream rs = new RecordingStream()) {
            rs.setReuse(false); // events are kept past their action: by default the stream reuses one object
            rs.enable("org.malloc4j.LargeAllocation");
            rs.onEvent("org.malloc4j.LargeAllocation", e -> {
                if ("jfr-grow".equals(e.getString("heap"))) seen.add(e);
            });
            rs.startAsync();
            try (Heap heap = Heap.builder().name("jfr-grow").largeAllocationEvent(1 << 20).jmx(false).build()) {
                long p = heap.malloc(300_000);
                assertThat(heap.realloc(p, 900_000)).isEqualTo(p); // below the threshold: no event
                assertThat(heap.realloc(p, 3 << 20)).isEqualTo(p); // grown in place past it
                heap.free(p);
            }
            assertThat(rs.stop()).isTrue(); // every event recorded before it delivered (a flush callback is not)
        }
        assertThat(seen).extracting(e -> e.getLong("size")).containsExactly(3L << 20);
        assertThatThrownBy(() -> Heap.builder().largeAllocationEvent(256 << 10))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("threads' caches");
    }

    private static List<RecordedEvent> mine(Map<String, List<RecordedEvent>> seen, String name) {
        return seen.getOrDefault(name, List.of()).stream().filter(e -> "jfr-test".equals(e.getString("heap"))).toList();
    }
}
