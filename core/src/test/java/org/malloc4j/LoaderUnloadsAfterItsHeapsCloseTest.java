package org.malloc4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.ref.WeakReference;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import jdk.jfr.FlightRecorder;
import jdk.jfr.consumer.RecordingStream;
import org.junit.jupiter.api.Test;

/**
 * A program that loads this library in a class loader of its own (a web application, a plugin), builds heaps, closes
 * them all and drops the loader must see the loader collected: nothing of the JVM's may keep one of the library's
 * classes reachable. The periodic JFR statistics hook and the listener that waited for JFR to start stayed registered
 * with JFR for good, and the ThreadLocal values of the thread caches, the quarantine's rings and the stacks, of
 * classes of the library's, stayed in the map of every thread that had used a heap. Each case runs in a JVM of its
 * own, the library loaded from its classes folder in a {@link URLClassLoader} whose parent is the platform loader, and
 * used by reflection alone: a FAST and a CHECKED heap (with its MBean), malloc and free on the main thread and on a
 * platform thread that then ends, segments, stack frames and arenas.
 */
class LoaderUnloadsAfterItsHeapsCloseTest {

    @Test
    void theLoaderIsCollectedWhenJfrNeverStarts() throws Exception {
        String out = child("none");
        assertThat(out).contains("loader collected: true").contains("jfr initialized: false");
    }

    @Test
    void theLoaderIsCollectedWhenJfrRecordedFromBeforeTheHeaps() throws Exception {
        String out = child("before");
        assertThat(out).contains("statistics event: unload-FAST").contains("statistics event: unload-again")
                .contains("loader collected: true");
    }

    @Test
    void theLoaderIsCollectedWhenJfrStartedWhileAHeapWasOpen() throws Exception {
        String out = child("after");
        assertThat(out).contains("statistics event: unload-FAST").contains("statistics event: unload-again")
                .contains("loader collected: true");
    }

    @Test
    void theLoaderIsCollectedWhenJfrStoppedRecordingBeforeTheHeapsClosed() throws Exception {
        String out = child("stopped");
        assertThat(out).contains("statistics event: unload-FAST").contains("loader collected: true");
    }

    private static String child(String jfr) throws Exception {
        String classes = Path.of(Heap.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        String out = ChildJvm.runToSuccess(Child.class, 180, List.of("-Xmx256m"), classes, jfr);
        return out;
    }

    /**
     * The child JVM: {@code args[0]} is the library's classes folder, {@code args[1]} when JFR starts: {@code none},
     * {@code before} the heaps are built, {@code after} (while they are open), or {@code stopped} (started before the
     * heaps, stopped while they are open).
     */
    public static final class Child {
        /** The labels of the statistics events seen, each completed once. */
        private static final ConcurrentHashMap<String, CompletableFuture<String>> SEEN = new ConcurrentHashMap<>();

        public static void main(String[] args) throws Exception {
            URL classes = Path.of(args[0]).toUri().toURL();
            String jfr = args[1];
            RecordingStream[] stream = new RecordingStream[1];
            if (jfr.equals("before") || jfr.equals("stopped")) stream[0] = startRecording();
            WeakReference<ClassLoader> loader = useAndDrop(classes, jfr, stream);
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t.getName().equals("malloc4j-purger")) t.join(20_000); // it ends on its next pass (a second at most)
            }
            // Bounded: a few collections usually (the cleaner's and JFR's threads let go of what they held in between)
            int collections = 0;
            while (loader.get() != null && collections < 100) {
                System.gc();
                byte[] junk = new byte[1 << 16];
                junk[collections] = 1;
                collections++;
                Thread.yield();
            }
            System.out.println("loader collected: " + (loader.get() == null) + " after " + collections + " collections");
            System.out.println("jfr initialized: " + FlightRecorder.isInitialized());
            if (stream[0] != null) stream[0].close();
        }

        private static RecordingStream startRecording() {
            RecordingStream rs = new RecordingStream();
            rs.enable("org.malloc4j.HeapStatistics").withPeriod(Duration.ofMillis(10));
            rs.onEvent("org.malloc4j.HeapStatistics", e -> seen(e.getString("heap")).complete(e.getString("heap")));
            rs.startAsync();
            return rs;
        }

        private static CompletableFuture<String> seen(String label) {
            return SEEN.computeIfAbsent(label, l -> new CompletableFuture<>());
        }

        /** Builds, uses and closes heaps of the library loaded anew; returns a weak reference to its loader. */
        private static WeakReference<ClassLoader> useAndDrop(URL classes, String jfr, RecordingStream[] stream)
                throws Exception {
            URLClassLoader loader = new URLClassLoader(new URL[] {classes}, ClassLoader.getPlatformClassLoader());
            Class<?> heapClass = Class.forName("org.malloc4j.Heap", true, loader);
            Class<?> modeClass = Class.forName("org.malloc4j.HeapMode", true, loader);
            Object fast = build(heapClass, modeClass, "FAST");
            Object checked = build(heapClass, modeClass, "CHECKED");
            if (jfr.equals("after")) stream[0] = startRecording();
            for (Object heap : List.of(fast, checked)) {
                use(heap);
                FutureTask<Void> task = new FutureTask<>(() -> use(heap), null);
                Thread other = new Thread(task);
                other.start();
                task.get(); // its failure, if any
                other.join();
            }
            if (!jfr.equals("none")) {
                System.out.println("statistics event: " + seen("unload-FAST").get(60, TimeUnit.SECONDS));
            }
            if (jfr.equals("stopped")) {
                stream[0].close();
                stream[0] = null;
            }
            close(fast);
            close(checked);
            if (stream[0] != null) { // the statistics of a heap built after every heap had closed
                Object again = build(heapClass, modeClass, "FAST", "unload-again");
                System.out.println("statistics event: " + seen("unload-again").get(60, TimeUnit.SECONDS));
                close(again);
            }
            loader.close();
            return new WeakReference<>(loader);
        }

        private static Object build(Class<?> heapClass, Class<?> modeClass, String mode) throws Exception {
            return build(heapClass, modeClass, mode, "unload-" + mode);
        }

        @SuppressWarnings({"unchecked", "rawtypes"})
        private static Object build(Class<?> heapClass, Class<?> modeClass, String mode, String name)
                throws Exception {
            Object builder = heapClass.getMethod("builder").invoke(null);
            Class<?> b = builder.getClass();
            b.getMethod("name", String.class).invoke(builder, name);
            b.getMethod("mode", modeClass).invoke(builder, Enum.valueOf((Class) modeClass, mode));
            b.getMethod("jmx", boolean.class).invoke(builder, true);
            return b.getMethod("build").invoke(builder);
        }

        /** Small, medium and large blocks, by address and as segments, each freed; a stack frame, arenas. */
        private static void use(Object heap) {
            try {
                Method malloc = heap.getClass().getMethod("malloc", long.class);
                Method free = heap.getClass().getMethod("free", long.class);
                for (long size : new long[] {16, 100, 5000, 100_000, 3 << 20}) {
                    long p = (Long) malloc.invoke(heap, size);
                    free.invoke(heap, p);
                }
                Class<?> heapStack = heap.getClass().getClassLoader().loadClass("org.malloc4j.HeapStack");
                Object stack = heap.getClass().getMethod("stack").invoke(heap);
                try (AutoCloseable frame = (AutoCloseable) heapStack.getMethod("push").invoke(stack)) {
                    ((SegmentAllocator) frame).allocate(100);
                }
                for (String kind : new String[] {"newArena", "newSharedArena"}) {
                    try (Arena arena = (Arena) heap.getClass().getMethod(kind).invoke(heap)) {
                        arena.allocate(100);
                        arena.allocate(100_000);
                    }
                }
                Method allocate = heap.getClass().getMethod("allocate", long.class, long.class);
                Method freeSegment = heap.getClass().getMethod("free", MemorySegment.class);
                for (long size : new long[] {64, 70_000}) {
                    freeSegment.invoke(heap, allocate.invoke(heap, size, 8L));
                }
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }

        private static void close(Object heap) throws Exception {
            heap.getClass().getMethod("close").invoke(heap);
        }
    }
}
