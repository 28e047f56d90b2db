package org.malloc4j.bench;

import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The fork, warm-up and measurement every benchmark that runs malloc4j against the anchors shares, declared once (JMH
 * reads these annotations from a benchmark's superclasses): one fork with every flag of {@link BenchFlags} (the
 * anchors at their best, Netty's pools and JMH's executor included), five warm-up and five measured iterations of one
 * second. A benchmark that needs others declares its own, which JMH takes before these.
 */
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {BenchFlags.NATIVE_ACCESS, BenchFlags.UNSAFE_ALLOW, BenchFlags.NETTY_UNSAFE,
        BenchFlags.NETTY_CACHE_ALL, BenchFlags.NETTY_MAGAZINES, BenchFlags.NETTY_NO_LEAK_DETECTION,
        BenchFlags.NETTY_REFLECTION, BenchFlags.OPEN_NIO, BenchFlags.JMH_EXECUTOR, BenchFlags.JMH_EXECUTOR_CLASS,
        BenchFlags.XMS, BenchFlags.XMX, BenchFlags.PRETOUCH})
public abstract class AnchoredBenchmark {
    /** For subclasses only. */
    protected AnchoredBenchmark() {}
}
