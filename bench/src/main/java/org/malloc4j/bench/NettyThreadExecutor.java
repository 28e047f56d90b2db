package org.malloc4j.bench;

import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The executor JMH runs benchmark threads on ({@code -Djmh.executor=CUSTOM -Djmh.executor.class=} this class; see
 * {@link BenchFlags#JMH_EXECUTOR}): a fixed pool of Netty {@code FastThreadLocalThread}s, the kind of thread Netty's
 * event loops run on, made by Netty's own {@code DefaultThreadFactory}.
 *
 * <p>Why: Netty 4.2's {@code Recycler} reuses {@code ByteBuf} objects only on threads that will clean up their
 * fast thread-locals ({@code FastThreadLocalThread.currentThreadWillCleanupFastThreadLocals()}); on JMH's plain
 * threads every {@code directBuffer} call makes a new {@code PooledUnsafeDirectByteBuf} (144 B of garbage per
 * op, measured). Every allocator runs on these threads, so the comparison stays like for like; only Netty can tell.
 */
public final class NettyThreadExecutor extends ThreadPoolExecutor {
    /** The constructor JMH's CUSTOM executor type calls. */
    public NettyThreadExecutor(int maxThreads, String prefix) {
        super(maxThreads, maxThreads, 0L, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                new DefaultThreadFactory(prefix, true));
    }
}
