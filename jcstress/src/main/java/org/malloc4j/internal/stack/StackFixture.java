package org.malloc4j.internal.stack;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.concurrent.CountDownLatch;
import org.malloc4j.internal.BlockAllocator;

/**
 * What the stack registry's jcstress tests share: a fake heap that hands out synthetic stack blocks (no memory is
 * mapped: the registry never touches a block, only its address), stacks of ended or live platform threads made to
 * hold a block without their threads pushing, and an arbiter's count of the places a block is in.
 */
final class StackFixture {
    /** Stack size of every registry; the blocks are never read or written. */
    static final long SIZE = 4096;

    /** A platform thread that has ended: the owner of a stack whose block may be taken back. */
    static final Thread DEAD;
    /** A platform thread alive for the whole run (parked): the owner of a stack whose block nobody may take. */
    static final Thread ALIVE;

    private static final VarHandle BASE;
    private static final VarHandle PLATFORM;
    private static final VarHandle POOL;

    static {
        // No Runnable for DEAD: a lambda's body would be a method of this class, and running it would wait for this
        // very initialisation to finish (a deadlock with the join below).
        DEAD = new Thread("malloc4j-jcstress-dead-stack-owner");
        DEAD.start();
        CountDownLatch never = new CountDownLatch(1);
        ALIVE = new Thread(null, new Waiter(never), "malloc4j-jcstress-live-stack-owner");
        ALIVE.setDaemon(true);
        ALIVE.start();
        try {
            DEAD.join();
            MethodHandles.Lookup stack = MethodHandles.privateLookupIn(ThreadStack.class, MethodHandles.lookup());
            BASE = stack.findVarHandle(ThreadStack.class, "base", long.class);
            MethodHandles.Lookup reg = MethodHandles.privateLookupIn(StackRegistry.class, MethodHandles.lookup());
            PLATFORM = reg.findVarHandle(StackRegistry.class, "platform", ArrayList.class);
            POOL = reg.findVarHandle(StackRegistry.class, "pool", StackPool.class);
        } catch (ReflectiveOperationException | InterruptedException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private StackFixture() {}

    /** Waits for its latch: a thread that ends when told to. */
    record Waiter(CountDownLatch latch) implements Runnable {
        @Override
        public void run() {
            try {
                latch.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Synthetic blocks, each a distinct address; counts what the registry takes and gives back. Synchronized: the
     * actors may both take or give a block.
     */
    static final class Core implements BlockAllocator {
        private long next = 1L << 40;
        int taken, given;

        @Override
        public synchronized long stackBlock(long size) {
            taken++;
            return next += 1 << 20;
        }

        @Override
        public synchronized void freeStackBlock(long block) {
            given++;
        }

        synchronized int outstanding() {
            return taken - given;
        }

        @Override
        public boolean isClosed() {
            return false;
        }

        @Override
        public String name() {
            return "jcstress";
        }

        @Override
        public long malloc(long size) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long alignedAlloc(long alignment, long size) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void free(long address) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long arenaOffset(long alignment) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long arenaBlock(long alignment, long size) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long arenaChunk(long size, long asked) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void freeArenaBlock(long block) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long heldBytes(long block) {
            throw new UnsupportedOperationException();
        }
    }

    /**
     * @return a stack of {@code owner}'s that holds a fresh block of the heap's and is on the registry's list of
     *         platform stacks, as after that thread's first push (made without a push, which only the owner may do,
     *         and without the registry's look at the other stacks, which would take an ended one's block)
     */
    @SuppressWarnings("unchecked")
    static ThreadStack holding(StackRegistry registry, Core core, Thread owner) {
        ThreadStack stack = new ThreadStack(registry, core, owner, SIZE);
        BASE.setVolatile(stack, core.stackBlock(registry.blockSize()) + StackRegistry.GUARD);
        ArrayList<ThreadStack> list = (ArrayList<ThreadStack>) PLATFORM.get(registry);
        synchronized (list) {
            list.add(stack);
        }
        return stack;
    }

    /**
     * A first push on a stack of {@link #ALIVE}'s, as {@code ThreadStack.attach} makes it: a block from the registry
     * (the pool, an ended thread's stack, or the heap), then the stack's base. Not the actor's own stack: jcstress may
     * end an actor's thread before the other actor of the same state runs, and a trim would then rightly take the
     * block back.
     *
     * @return the stack
     */
    static ThreadStack firstPush(StackRegistry registry, Core core) {
        ThreadStack stack = new ThreadStack(registry, core, ALIVE, SIZE);
        long block = registry.acquire(stack);
        BASE.setVolatile(stack, block + StackRegistry.GUARD);
        return stack;
    }

    /** @return how many times the registry's list of platform stacks holds {@code stack} (under its monitor) */
    @SuppressWarnings("unchecked")
    static int listed(StackRegistry registry, ThreadStack stack) {
        ArrayList<ThreadStack> list = (ArrayList<ThreadStack>) PLATFORM.get(registry);
        synchronized (list) {
            int n = 0;
            for (ThreadStack s : list) if (s == stack) n++;
            return n;
        }
    }

    /**
     * Arbiter only: in how many places {@code block} is: the stacks given, and the registry's pool. One, always: two
     * would hand it to two threads, none would lose it (neither used nor given back).
     */
    static int places(StackRegistry registry, long block, ThreadStack... stacks) {
        int[] n = {0};
        for (ThreadStack s : stacks) if (s.heldBlock() == block) n[0]++;
        ((StackPool) POOL.get(registry)).forEachIdle(b -> {
            if (b == block) n[0]++;
        });
        return n[0];
    }
}
