package org.malloc4j.internal.stack;

import java.util.ArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.malloc4j.HeapCorruptionException;
import org.malloc4j.HeapDamage;
import org.malloc4j.HeapStack;
import org.malloc4j.internal.BlockAllocator;

/**
 * A heap's thread stacks: each thread's {@link ThreadStack} (a {@link ThreadLocal}), and the blocks behind them.
 *
 * <p><b>Blocks.</b> Every stack's memory is one heap block of {@link #stackSize()} bytes. A platform thread's stack
 * takes a block on its first push and keeps it; a virtual thread's stack borrows one on its outermost push and
 * gives it back on its outermost pop. Blocks come from the {@link StackPool} first, then from stacks of platform
 * threads that have ended (a stack that needs a block with the pool empty looks at a few of them, in turn), then from
 * the heap. A block given back to a full pool goes back to the heap; {@code trim()} and a request the heap's limit
 * would refuse take back every ended thread's block ({@link #releaseEnded}, {@link #releaseIdle}). So the blocks alive
 * are at most the platform threads that have pushed, plus the threads inside a frame at the same time, plus the pool's
 * capacity; 100,000 virtual threads that each push and pop in turn share a handful.
 *
 * <p>Thread-safe: the pool is lock-free, the list of platform stacks is guarded by a lock of its own (taken once per
 * platform thread, when the pool runs dry, and by trims, refusals, leak reports and close), the counters are
 * atomic.
 */
public final class StackRegistry {
    private final BlockAllocator core;
    private final long stackSize;
    /**
     * Each thread's slot for its stack. A slot, not the stack: a thread's ThreadLocal value lives as long as the
     * thread, and a stack refers to this registry, which refers to the ThreadLocal, the entry's key, so that the entry
     * would never go stale and a closed heap would stay reachable from every thread that used its stack;
     * {@link #releaseAll} empties the slots. The slot is of a JDK class, read and written plainly: the entry outlives
     * the heap in every thread that used its stack and lives on, and a value of a class of this library's kept its
     * class loader reachable (a program that loaded the library in a loader of its own could never unload it:
     * LoaderUnloadsAfterItsHeapsCloseTest).
     */
    private final ThreadLocal<AtomicReference<ThreadStack>> current = new ThreadLocal<>();
    /**
     * Guards the lists of slots and platform stacks. A lock, not a monitor: a request the heap's limit would refuse
     * takes it (the stacks of ended threads go back first), and the concurrency issue allows no {@code synchronized}
     * on malloc and free paths ({@code NoMonitorOnTheAllocationPathsTest}).
     */
    private final ReentrantLock lock = new ReentrantLock();
    /** The slots of the threads that made a stack here; guarded by {@link #lock}. */
    private final ArrayList<AtomicReference<ThreadStack>> slots = new ArrayList<>();
    /** {@link #slots} is swept of ended threads' slots when it reaches this size (amortised O(1) a thread). */
    private int sweepAt = 64;
    /**
     * One thread's stack, checked before the {@link ThreadLocal}: a program whose stack work runs on one thread (or
     * mostly one) skips the thread-local lookup. Racy on purpose: any thread may overwrite it when it is empty or
     * its owner has ended, and a reader uses it only when its owner, a final field, is the calling thread.
     */
    private ThreadStack first;
    private final StackPool pool;
    /** Stacks of platform threads that hold a block; guarded by {@link #lock}. */
    private final ArrayList<ThreadStack> platform = new ArrayList<>();
    private final AtomicLong created = new AtomicLong();
    /** Stacks taking a block from the heap now ({@link #awaitReturned}). */
    private final java.util.concurrent.atomic.AtomicInteger creating = new java.util.concurrent.atomic.AtomicInteger();
    private final AtomicLong freed = new AtomicLong();
    /**
     * Blocks that live virtual threads' stacks held when the heap closed (a frame open across the close): out of
     * {@link #releaseAll}'s reach, their threads giving them back at their pops, but the heap's own all the same,
     * which close()'s leak report must not count as the program's. Guarded by {@link #lock}.
     */
    private final java.util.Set<Long> borrowedAtClose = new java.util.HashSet<>();
    /** Where damage goes that a free of a stack's block finds in CHECKED mode (kept for verify() and close()). */
    private final Consumer<HeapDamage> damage;

    /**
     * Bytes at the start of a stack's block that no frame hands out: no frame segment starts a block, so
     * {@code heap.free} of one is refused as an address inside a block; the block itself is held
     * ({@link BlockAllocator#stackBlock}), and {@code heap.free} of its address is refused too.
     */
    static final long GUARD = 16;

    /**
     * @param core the heap the blocks come from
     * @param stackSize the size of every stack, in bytes (each block is {@link #GUARD} bytes more)
     * @param damage told the damage a free of a stack's block finds (CHECKED mode), which it does not throw
     */
    public StackRegistry(BlockAllocator core, long stackSize, Consumer<HeapDamage> damage) {
        if (stackSize <= 0) throw new IllegalArgumentException("stack size must be positive: " + stackSize);
        this.core = core;
        this.stackSize = stackSize;
        this.damage = damage;
        int want = Math.max(8, 2 * Runtime.getRuntime().availableProcessors());
        this.pool = new StackPool(Integer.highestOneBit(want - 1) << 1);
    }

    /** @return the calling thread's stack, made on first use (without memory until its first push) */
    public HeapStack current() {
        ThreadStack cached = first;
        if (cached != null && cached.owner == Thread.currentThread()) return cached;
        return currentSlow();
    }

    private ThreadStack currentSlow() {
        AtomicReference<ThreadStack> slot = current.get();
        ThreadStack stack = slot != null ? slot.getPlain() : null;
        if (stack == null) {
            stack = new ThreadStack(this, core, Thread.currentThread(), stackSize);
            if (slot == null) {
                slot = new AtomicReference<>();
                current.set(slot);
            }
            slot.setPlain(stack);
            keep(slot);
        }
        ThreadStack cached = first;
        if (cached == null || !cached.owner.isAlive()) first = stack;
        return stack;
    }

    private void keep(AtomicReference<ThreadStack> slot) {
        lock.lock();
        try {
            if (slots.size() >= sweepAt) sweepEnded();
            slots.add(slot);
        } finally {
            lock.unlock();
        }
    }

    /** Forgets the slots of ended threads, taking back the blocks of those that ended in a frame. Lock held. */
    private void sweepEnded() {
        slots.removeIf(s -> s.getPlain() == null || reclaimIfEnded(s.getPlain()));
        sweepAt = Math.max(64, 2 * slots.size());
    }

    /**
     * Takes back the blocks of every stack whose thread has ended, into the pool or to the heap when it is full. A
     * platform thread's block was taken back only when another stack needed one, and a hundred platform threads that
     * had used their stacks together left 6.5 MB live and committed after a trim, for as long as no frame was pushed
     * again. O(stacks).
     */
    public void releaseEnded() {
        lock.lock();
        try {
            takeEnded(this::release);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Gives the blocks of every stack whose thread has ended and the pool's idle blocks back to the heap: for
     * {@code trim()}, and for a request the heap would refuse otherwise ({@code HeapCore.beforeRefusal}), on the
     * refused thread, which holds none of the heap's locks. Ten platform threads that had used their stacks together
     * and ended held 655 KB live under a 1 MiB limit, and a request of 600 KB was refused. The pool fills again as
     * stacks give blocks back. O(stacks).
     */
    public void releaseIdle() {
        giveBackIdle(true);
    }

    /**
     * {@link #releaseIdle} for a small or medium request about to be refused ({@code HeapCore.newSlab}), whose thread
     * holds its cache in the middle of a slow path (a virtual thread, its stripe's lock): it never waits for this
     * registry's lock, which a thread may hold while its frees wait for that stripe (a trim's {@link #releaseEnded});
     * it passes the ended stacks when another thread holds it (a trim or a refusal is taking the blocks back already).
     * O(stacks and the pool's capacity).
     *
     * @return whether a block went back to the heap
     */
    public boolean releaseIdleNow() {
        return giveBackIdle(false);
    }

    /**
     * The ended threads' blocks (the registry's lock taken, or only tried when not {@code wait}) and the pool's, freed
     * to the heap after the lock is given back. @return whether a block went back
     */
    private boolean giveBackIdle(boolean wait) {
        ArrayList<Long> taken = new ArrayList<>(); // trims and refusals, rare: garbage allowed
        boolean held;
        if (wait) {
            lock.lock();
            held = true;
        } else {
            held = lock.tryLock();
        }
        if (held) {
            try {
                takeEnded(taken::add);
            } finally {
                lock.unlock();
            }
        }
        for (long block; (block = pool.poll()) != 0; ) taken.add(block);
        for (long block : taken) {
            if (!core.isClosed()) free(block);
            else freed.incrementAndGet();
        }
        return !taken.isEmpty();
    }

    /**
     * Forgets every stack whose thread has ended, platform threads' and virtual threads' that ended inside a frame,
     * handing their blocks to {@code sink}. Reading an ended thread's stack is safe: a thread's end happens-before
     * another thread sees {@link Thread#isAlive()} return false. Lock held; O(stacks).
     */
    private void takeEnded(java.util.function.LongConsumer sink) {
        platform.removeIf(stack -> { // one pass: an iterator's removals shifted the rest of the list each time
            if (stack.owner.isAlive()) return false;
            long block = stack.reclaim();
            if (block != 0) sink.accept(block);
            return true;
        });
        slots.removeIf(slot -> slot.getPlain() == null || takeIfEnded(slot.getPlain(), sink));
        sweepAt = Math.max(64, 2 * slots.size());
    }

    /** @return the size of every stack, in bytes */
    public long stackSize() {
        return stackSize;
    }

    /** @return the size of every stack's heap block, in bytes: the stack and its {@link #GUARD} */
    public long blockSize() {
        return stackSize + GUARD;
    }

    /** @return blocks ever taken from the heap for stacks */
    public long createdStacks() {
        return created.get();
    }

    /** @return blocks taken from the heap for stacks and not given back: in use, idle in the pool, or reclaimable */
    public long liveStacks() {
        return created.get() - freed.get();
    }

    /**
     * @return the blocks the stacks hold now, in use or idle: the heap's own, never a leak of the program's (a look
     *         for leak reports, racy where threads push and pop meanwhile)
     */
    public java.util.Set<Long> heldBlocks() {
        java.util.Set<Long> held = new java.util.HashSet<>();
        pool.forEachIdle(held::add);
        lock.lock();
        try {
            for (ThreadStack stack : platform) {
                long b = stack.heldBlock();
                if (b != 0) held.add(b);
            }
            for (AtomicReference<ThreadStack> slot : slots) {
                ThreadStack stack = slot.getPlain();
                long b = stack == null ? 0 : stack.heldBlock();
                if (b != 0) held.add(b);
            }
            held.addAll(borrowedAtClose);
        } finally {
            lock.unlock();
        }
        return held;
    }

    /** @return platform stacks {@link #acquire} has looked at for an ended thread's block (for tests) */
    long stacksLooked() {
        lock.lock();
        try {
            return looked;
        } finally {
            lock.unlock();
        }
    }

    /** @return blocks idle in the pool now (a racy count) */
    public int idleStacks() {
        return pool.idle();
    }

    /** @return the most idle blocks the pool keeps */
    public int poolCapacity() {
        return pool.capacity();
    }

    /**
     * Gives {@code stack} a block: from the pool, from an ended platform thread's stack, or from the heap; a virtual
     * thread's stack that finds the pool empty while another is taking a block from the heap first waits a little for
     * one to come back ({@link #awaitReturned}).
     */
    long acquire(ThreadStack stack) {
        long block = pool.poll();
        if (block == 0) block = reclaimSomeEnded();
        if (block == 0 && stack.borrows) block = awaitReturned();
        if (block == 0) {
            creating.incrementAndGet();
            try {
                block = core.stackBlock(blockSize());
            } finally {
                creating.decrementAndGet();
            }
            created.incrementAndGet();
        }
        if (!stack.borrows) {
            lock.lock();
            try {
                platform.add(stack);
            } finally {
                lock.unlock();
            }
        }
        return block;
    }

    /**
     * A virtual thread's stack found the pool empty. While another stack is taking a block from the heap, that heap
     * call may be waiting on a lock of the heap (a stripe's, the page layer's), and this one's would too: a waiting
     * virtual thread yields its carrier, the next virtual thread finds the pool empty as well, and the blocks made grow
     * with the length of the wait (194 for 100,000 short-lived virtual threads once, in a loaded test run, where 2 to 4
     * were the rule). So it yields its carrier up to {@value #RETURN_WAITS} times first, taking a block that a
     * finished frame gives back meanwhile; then, or as soon as no stack is taking one, it takes its own. A frame held
     * for long costs its followers those yields, not their blocks.
     *
     * @return a block from the pool, or 0: the caller takes one from the heap
     */
    private long awaitReturned() {
        for (int i = 0; i < RETURN_WAITS && creating.get() > 0; i++) {
            Thread.yield();
            long block = pool.poll();
            if (block != 0) return block;
        }
        return 0;
    }

    /** How many times {@link #awaitReturned} yields before a stack takes its own block. */
    private static final int RETURN_WAITS = 64;

    /**
     * Gives every stack's block back to the heap: the pool's and those of platform threads, ended or not (they take
     * a new one on their next push). For a heap that is closing: a live virtual thread inside a frame keeps its block,
     * remembered as the heap's own ({@link #heldBlocks}), and gives it back at its pop.
     */
    public void releaseAll() {
        lock.lock();
        try {
            for (ThreadStack stack : platform) {
                long block = stack.reclaim();
                if (block != 0) free(block);
            }
            platform.clear();
            for (AtomicReference<ThreadStack> slot : slots) {
                ThreadStack stack = slot.getPlain();
                if (stack != null && !reclaimIfEnded(stack)) {
                    // A live virtual thread inside a frame (a platform thread's block was taken above): forgotten
                    // here, its block was reported at close as the program's leak (failOnLeak threw for it)
                    long b = stack.heldBlock();
                    if (b != 0) borrowedAtClose.add(b);
                }
                slot.setPlain(null); // the threads that used the heap keep it reachable no longer
            }
            slots.clear();
            current.remove(); // the calling thread's entry goes at once; other threads' go when their maps expunge them
        } finally {
            lock.unlock();
        }
        first = null;
        for (long block; (block = pool.poll()) != 0; ) free(block);
    }

    /**
     * Takes the block of a virtual thread's stack whose thread ended inside a frame (no other thread may use its frames):
     * into the pool, or to the heap. Forgotten with the thread's slot, it stayed live for good, and {@link #heldBlocks}
     * no longer named it: the heap's own block was reported as the program's leak, at close too. Reading the ended
     * thread's stack is safe, as in {@link #takeEnded}. Caller holds {@link #lock}.
     *
     * @return whether {@code stack}'s thread has ended
     */
    private boolean reclaimIfEnded(ThreadStack stack) {
        return takeIfEnded(stack, this::release);
    }

    /** As {@link #reclaimIfEnded}, the block (a virtual thread's that ended inside a frame) handed to {@code sink}. */
    private static boolean takeIfEnded(ThreadStack stack, java.util.function.LongConsumer sink) {
        if (stack.owner.isAlive()) return false;
        if (stack.borrows) {
            long block = stack.reclaim();
            if (block != 0) sink.accept(block);
        }
        return true;
    }

    /** Takes back a virtual thread's block: into the pool, or to the heap when the pool is full. */
    void release(long block) {
        if (pool.offer(block)) return;
        if (!core.isClosed()) free(block);
        else freed.incrementAndGet();
    }

    /**
     * Gives a block back to the heap. Damage that the free finds (CHECKED: a block it pushed out of quarantine) does
     * not stop the caller, which may be freeing several blocks or taking one for a push: the block is freed all the
     * same, and the damage goes to {@link #damage}.
     */
    private void free(long block) {
        try {
            core.freeStackBlock(block);
        } catch (HeapCorruptionException e) {
            damage.accept(e.damage());
        } finally {
            freed.incrementAndGet();
        }
    }

    /** Platform stacks a stack that needs a block looks at, at most, for one whose thread has ended. */
    static final int LOOK_BUDGET = 4;
    /** Where {@link #reclaimSomeEnded} looks next in {@link #platform}; guarded by {@link #lock}. */
    private int lookCursor;
    /** Platform stacks {@link #reclaimSomeEnded} has looked at; guarded by {@link #lock}. */
    private long looked;

    /**
     * For a stack that needs a block, the pool being empty: looks at up to {@link #LOOK_BUDGET} platform stacks from
     * a rotating cursor, so that every one is looked at in turn, and takes the block of the first whose thread has
     * ended (the ended ones it passes leave the list). Every stack that needed a block with the pool empty (a platform
     * thread's first push, a virtual thread's outermost push) walked them all: O(live platform threads) a push, and
     * 200 threads pushing their first frames in turn looked at 19,900 stacks (StackBlockLookIsBoundedTest). Blocks
     * this leaves behind go back by {@link #releaseEnded} (a trim, or before the heap refuses a request).
     *
     * @return a block for the caller, or 0
     */
    private long reclaimSomeEnded() {
        lock.lock();
        try {
            for (int n = 0; n < LOOK_BUDGET && !platform.isEmpty(); n++) {
                if (lookCursor >= platform.size()) lookCursor = 0;
                ThreadStack stack = platform.get(lookCursor);
                looked++;
                if (stack.owner.isAlive()) {
                    lookCursor++;
                    continue;
                }
                int last = platform.size() - 1; // the last one into its place: O(1), the order does not matter
                platform.set(lookCursor, platform.get(last));
                platform.remove(last);
                long block = stack.reclaim();
                if (block != 0) return block;
            }
        } finally {
            lock.unlock();
        }
        return 0;
    }
}
