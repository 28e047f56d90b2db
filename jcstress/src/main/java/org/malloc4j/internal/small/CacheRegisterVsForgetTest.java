package org.malloc4j.internal.small;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicReference;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * A thread registers its cache ({@code ThreadCaches.get} on its first use) while the heap closes and lets go of the
 * threads' caches ({@code forgetThreads}): a call that checked the heap open just before the close. Registered first,
 * its slot is emptied by the forget; registered after it, the cache must stay out of its slot, which nobody would
 * empty any more (the thread would keep the closed heap reachable for its whole life). Either way the thread's slot is
 * empty once both are done, and the cache is on the list of caches all the same (its counts are summed).
 *
 * <p>r1: 1 when the registering thread's slot still names a cache; r2: 1 unless the cache is on the list.
 */
@JCStressTest
@Description("A cache registered racing forgetThreads never ends in its thread's slot.")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "The slot is empty, the cache listed.")
@Outcome(expect = FORBIDDEN, desc = "A cache left in a thread's slot after forgetThreads, or a cache not listed.")
@State
public class CacheRegisterVsForgetTest {
    private static final VarHandle LOCAL;

    static {
        try {
            MethodHandles.Lookup caches = MethodHandles.privateLookupIn(ThreadCaches.class, MethodHandles.lookup());
            LOCAL = caches.findVarHandle(ThreadCaches.class, "local", ThreadLocal.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final ThreadCaches caches = new ThreadCaches(new Fixture.Source());
    private AtomicReference<?> slot; // the thread's slot: a JDK object, so that it holds no class of the library
    private LocalHeap cache;

    @Actor
    public void register() {
        cache = caches.get();
        slot = (AtomicReference<?>) ((ThreadLocal<?>) LOCAL.get(caches)).get();
    }

    @Actor
    public void close() {
        caches.forgetThreads();
    }

    @Arbiter
    public void arbiter(II_Result r) {
        r.r1 = slot.get() == null ? 0 : 1;
        boolean listed = false;
        for (LocalHeap c : caches.all()) listed |= c == cache;
        r.r2 = listed ? 0 : 1;
    }
}
