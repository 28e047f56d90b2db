package org.malloc4j.bench;

/**
 * The JVM flags every benchmark fork runs with, in one place: {@link AnchoredBenchmark}'s {@code @Fork} lists these
 * constants, and {@link Probe} prints them so that {@code scripts/bench.sh} probes the anchors under the same flags.
 *
 * <p>Each one is there for fairness (the project's benchmark protocol, docs/benchmarks.md): an anchor configured below its best
 * makes a win over it worthless.
 */
public final class BenchFlags {
    /** FFM downcalls (the native anchors) and {@code MemorySegment.reinterpret} without a warning. */
    public static final String NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";
    /** Java 25 warns about, and Netty then avoids, the memory methods of the JDK's Unsafe class unless allowed. */
    public static final String UNSAFE_ALLOW = "--sun-misc-unsafe-memory-access=allow";
    /** Netty 4.2 on Java 25 turns its Unsafe path off by default; this turns it back on. */
    public static final String NETTY_UNSAFE = "-Dio.netty.noUnsafe=false";
    /** Netty's pooled allocator gives thread caches to its own event-loop threads only, unless this is set. */
    public static final String NETTY_CACHE_ALL = "-Dio.netty.allocator.useCacheForAllThreads=true";
    /** The same for the adaptive allocator's magazines (the benchmarks also pass it to its constructor). */
    public static final String NETTY_MAGAZINES = "-Dio.netty.allocator.useCachedMagazinesForNonEventLoopThreads=true";
    /** Netty samples allocations for leak detection by default (SIMPLE: about 1 in 128); production tuning turns it off. */
    public static final String NETTY_NO_LEAK_DETECTION = "-Dio.netty.leakDetection.level=disabled";
    /**
     * Netty's direct buffers without a JDK {@code Cleaner} ({@code PlatformDependent.useDirectBufferNoCleaner()}):
     * Netty reaches {@code DirectByteBuffer}'s private constructor only with both of these; without them every
     * chunk (and every unpooled buffer) goes through {@code ByteBuffer.allocateDirect} and its accounting.
     */
    public static final String NETTY_REFLECTION = "-Dio.netty.tryReflectionSetAccessible=true";
    public static final String OPEN_NIO = "--add-opens=java.base/java.nio=ALL-UNNAMED";
    /**
     * JMH runs the benchmark threads on Netty {@code FastThreadLocalThread}s ({@link NettyThreadExecutor}), as
     * Netty's event loops do: only there does Netty 4.2 recycle its {@code ByteBuf} objects.
     */
    public static final String JMH_EXECUTOR = "-Djmh.executor=CUSTOM";
    public static final String JMH_EXECUTOR_CLASS = "-Djmh.executor.class=org.malloc4j.bench.NettyThreadExecutor";
    /** A fixed Java heap, so that the garbage-making subjects (Netty, Arena) see the same GC in every fork. */
    public static final String XMS = "-Xms1g";
    public static final String XMX = "-Xmx1g";
    /**
     * The fixed Java heap faulted in before the benchmark starts. Without it, a subject that makes a little Java
     * garbage (malloc4j's sampled allocation sites, Netty's buffers) pays the kernel's first touch of every Eden page
     * for the whole run, since a 1 GiB heap at a few hundred MB/s is not cycled once in a JMH fork: a warm-up cost
     * of the fork, not of the subject (it was a third of the sites' overhead at 64 KiB).
     */
    public static final String PRETOUCH = "-XX:+AlwaysPreTouch";

    /** All of the above, in the order {@code @Fork} lists them. */
    public static final String[] ALL = {NATIVE_ACCESS, UNSAFE_ALLOW, NETTY_UNSAFE, NETTY_CACHE_ALL, NETTY_MAGAZINES,
            NETTY_NO_LEAK_DETECTION, NETTY_REFLECTION, OPEN_NIO, JMH_EXECUTOR, JMH_EXECUTOR_CLASS, XMS, XMX, PRETOUCH};

    private BenchFlags() {}
}
