package org.malloc4j.arrow;

import java.lang.foreign.Arena;
import java.util.Objects;
import org.apache.arrow.memory.AllocationManager;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.OutOfMemoryException;
import org.apache.arrow.memory.ReferenceManager;
import org.malloc4j.Heap;
import org.malloc4j.HeapExhaustedException;

/**
 * An Apache Arrow {@link AllocationManager} whose memory comes from a malloc4j {@link Heap}: every {@link ArrowBuf}
 * that Arrow allocates through it is one heap block, freed when Arrow releases the buffer's last reference.
 *
 * <pre>{@code
 * try (BufferAllocator allocator = new RootAllocator(RootAllocator.configBuilder()
 *         .allocationManagerFactory(Malloc4jAllocationManager.FACTORY)   // or factory(myHeap)
 *         .build())) {
 *     ...   // vectors, IPC, C Data: Arrow as usual
 * }
 * }</pre>
 *
 * <p>({@code configBuilder()} is declared by {@code BaseAllocator}, which is not public in Arrow 19: outside
 * Arrow's package it is called through {@code RootAllocator}.) Child allocators inherit the factory.
 *
 * <p><b>Accounting.</b> Arrow's allocators keep doing all the accounting (reservations, child allocators, limits,
 * leak detection on close); this class only gets and frees the memory. {@link #getSize()} is the size Arrow asked
 * for (Arrow has already rounded it: to a power of two below its chunk size of 16 MiB), not the block's usable
 * size, because Arrow releases {@code getSize()} bytes from the allocator that reserved the requested size.
 *
 * <p><b>Alignment.</b> Every buffer starts on a multiple of {@value #ALIGNMENT} bytes. Arrow Java itself accesses
 * buffers through absolute addresses with no alignment requirement, and its own managers give less (the Unsafe one
 * gives what the C library's {@code malloc} gives, 16 bytes on x86-64 glibc; the Netty one gives offsets inside a
 * pooled chunk). But the Arrow columnar format recommends 64-byte aligned buffers, for SIMD over whole cache lines
 * and for native code that reads the same buffers through the C Data Interface; and on malloc4j it costs almost
 * nothing. Arrow rounds every request below 16 MiB up to a power of two, and a power of two of 64 bytes or more
 * gets the same block from {@link Heap#alignedAlloc(long, long) alignedAlloc(64, size)} as from
 * {@link Heap#malloc(long) malloc(size)} (its size class is a multiple of 64 and slabs start on a page); blocks
 * above the small classes (32 KiB) are page-aligned either way. Only requests under 64 bytes take a 64-byte block
 * instead of a 16-to-48-byte one. The alignment is that of each allocation: a buffer that Arrow slices out of
 * another keeps its offset (the IPC readers, for example, read a record batch's body into one buffer and slice
 * the vectors' buffers out of it at the format's 8-byte padded offsets).
 *
 * <p><b>Running out.</b> When the heap cannot give a block (its {@link Heap.Builder#limit(long) limit}, or the OS),
 * the {@link HeapExhaustedException} becomes Arrow's {@link OutOfMemoryException}, with the heap's exception as its
 * cause, as Arrow's Netty manager does: vectors then fail the way Arrow code expects ({@code allocateNewSafe()}
 * returns {@code false}) and the allocator's reservation is given back.
 *
 * <p><b>The empty buffer.</b> {@link AllocationManager.Factory#empty()} returns one shared zero-capacity buffer
 * with a no-op reference manager, as Arrow's Unsafe and Netty managers do. Its address is a real 64-byte aligned
 * address from {@link Arena#global()}, never freed, and not a heap block: the empty buffer is shared by every
 * allocator and outlives any heap (a dedicated heap may be closed while the buffer is still referenced), and it
 * does not show in the heap's {@linkplain Heap#stats() statistics}.
 *
 * <p><b>Class path and JVM flags (Arrow 19 on Java 25).</b> Arrow's {@code BaseAllocator} looks for
 * arrow-memory-unsafe or arrow-memory-netty when its class is initialized, even when every allocator names its
 * own factory, and fails without one; malloc4j-arrow therefore brings arrow-memory-unsafe at runtime (its memory is
 * not used unless an allocator asks for Arrow's default factory). Arrow itself, not this class, needs
 * {@code --add-opens=java.base/java.nio=ALL-UNNAMED} (on the module path: {@code =org.apache.arrow.memory.core}),
 * without which {@code ArrowBuf.nioBuffer()} and so the IPC writers fail, and
 * {@code --sun-misc-unsafe-memory-access=allow}, without which Java 25 warns that Arrow uses
 * the JDK's Unsafe class. malloc4j's own flag, {@code --enable-native-access=ALL-UNNAMED}, applies as usual.
 *
 * <p><b>Threads.</b> Arrow may release a buffer on any thread; malloc4j lets any thread free any block, so this
 * needs nothing more. A heap given to {@link #factory(Heap)} must stay open while any buffer allocated through the
 * factory is alive: closing it frees them all.
 */
public final class Malloc4jAllocationManager extends AllocationManager {
    /** The alignment of every buffer's address, in bytes (see the class comment for why 64). */
    public static final long ALIGNMENT = 64;

    private static final long EMPTY_ADDRESS = Arena.global().allocate(ALIGNMENT, ALIGNMENT).address();
    private static final ArrowBuf EMPTY = new ArrowBuf(ReferenceManager.NO_OP, null, 0, EMPTY_ADDRESS);

    /**
     * The factory on the process-wide heap, {@link Heap#global()} (created on first allocation, never closed).
     * Pass it to {@code RootAllocator.configBuilder().allocationManagerFactory(...)}.
     */
    public static final AllocationManager.Factory FACTORY = new HeapFactory(null);

    private final Heap heap;
    private final long address;
    private final long size;

    private Malloc4jAllocationManager(BufferAllocator accountingAllocator, Heap heap, long address, long size) {
        super(accountingAllocator);
        this.heap = heap;
        this.address = address;
        this.size = size;
    }

    /**
     * A factory whose buffers come from {@code heap}: for a heap with a limit of its own, or one whose statistics
     * should show Arrow's memory alone. The heap must outlive every buffer allocated through the factory.
     *
     * @param heap the heap to allocate from
     * @return a factory for {@code RootAllocator.configBuilder().allocationManagerFactory(...)}
     * @throws NullPointerException if {@code heap} is null
     */
    public static AllocationManager.Factory factory(Heap heap) {
        return new HeapFactory(Objects.requireNonNull(heap, "heap"));
    }

    /** @return the size Arrow asked for, in bytes (the block may be larger) */
    @Override
    public long getSize() {
        return size;
    }

    /** @return the address of the buffer's first byte, a multiple of {@value #ALIGNMENT} */
    @Override
    protected long memoryAddress() {
        return address;
    }

    /** Frees the block. Arrow calls this once, when the last reference to the buffer is released. */
    @Override
    protected void release0() {
        heap.free(address);
    }

    @Override
    public String toString() {
        return "Malloc4jAllocationManager[" + heap.name() + ", 0x" + Long.toHexString(address) + ", " + size + " B]";
    }

    /** The factory: one per heap; {@code heap == null} means {@link Heap#global()}, looked up on first use. */
    private static final class HeapFactory implements AllocationManager.Factory {
        private final Heap heap;

        HeapFactory(Heap heap) {
            this.heap = heap;
        }

        @Override
        public AllocationManager create(BufferAllocator accountingAllocator, long size) {
            Heap h = heap != null ? heap : Heap.global();
            long address;
            try {
                address = h.alignedAlloc(ALIGNMENT, size);
            } catch (HeapExhaustedException e) {
                throw new OutOfMemoryException("Arrow's buffer of " + size + " bytes refused by malloc4j: "
                        + e.getMessage(), e);
            }
            try {
                return new Malloc4jAllocationManager(accountingAllocator, h, address, size);
            } catch (Throwable t) { // the allocator was closed, for example: the block must not leak
                h.free(address);
                throw t;
            }
        }

        @Override
        public ArrowBuf empty() {
            return EMPTY;
        }

        @Override
        public String toString() {
            return "Malloc4jAllocationManager.Factory[" + (heap != null ? heap.name() : "global") + "]";
        }
    }
}
