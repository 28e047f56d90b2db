package org.malloc4j.cli.replay;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;
import org.malloc4j.anchors.Allocator;

/**
 * A test allocator with a chosen bug, to prove that the checked pass catches it: a bump allocator over one arena
 * (nothing is reused) whose every {@code period}-th call goes wrong in the chosen way.
 */
public final class FaultyAllocator implements Allocator {
    /** The bug. */
    public enum Fault {
        /** None: a correct (if wasteful) allocator. */
        NONE,
        /** Every period-th malloc returns an address inside the previous block. */
        OVERLAP,
        /** realloc moves the block without copying its contents. */
        REALLOC_FORGETS,
        /** Every period-th malloc writes a byte into the previous block (a heap-metadata scribble). */
        SCRIBBLE,
        /** Every period-th malloc of 16 bytes or more returns an address 8 bytes off. */
        MISALIGN,
        /** Every period-th malloc returns NULL. */
        NULL
    }

    private final Fault fault;
    private final int period;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment space;
    private final Map<Long, Long> sizes = new HashMap<>();
    private long top;
    private long calls;
    private long last;

    /** @param capacity bytes the allocator can hand out in all */
    public FaultyAllocator(Fault fault, int period, long capacity) {
        this.fault = fault;
        this.period = period;
        this.space = arena.allocate(capacity, 4096);
        this.top = space.address();
    }

    @Override
    public String name() {
        return "faulty-" + fault;
    }

    @Override
    public long malloc(long size) {
        boolean now = ++calls % period == 0;
        if (now && fault == Fault.NULL) return 0;
        long p = top;
        top += (Math.max(size, 1) + 15) & ~15L;
        if (top > space.address() + space.byteSize()) throw new IllegalStateException("test arena exhausted");
        if (now && fault == Fault.OVERLAP && last != 0) p = last + 8;
        if (now && fault == Fault.MISALIGN && size >= 16) {
            p += 8;
            top += 16;
        }
        if (now && fault == Fault.SCRIBBLE && last != 0 && sizes.containsKey(last) && sizes.get(last) > 0) {
            AddressSpace.ALL.set(java.lang.foreign.ValueLayout.JAVA_BYTE, last + sizes.get(last) / 2, (byte) 0);
        }
        sizes.put(p, size);
        last = p;
        return p;
    }

    @Override
    public void free(long address) {
        if (address != 0 && sizes.remove(address) == null) throw new IllegalStateException("bad free " + address);
    }

    @Override
    public long realloc(long address, long size) {
        if (address == 0) return malloc(size);
        Long old = sizes.get(address);
        if (old == null) throw new IllegalStateException("bad realloc " + address);
        long p = malloc(size);
        if (p == 0) return 0;
        if (fault != Fault.REALLOC_FORGETS) MemorySegment.copy(AddressSpace.ALL, address, AddressSpace.ALL, p, Math.min(old, size));
        free(address);
        return p;
    }

    @Override
    public long calloc(long count, long size) {
        long p = malloc(count * size);
        AddressSpace.ALL.asSlice(p, count * size).fill((byte) 0);
        return p;
    }

    @Override
    public void close() {
        arena.close();
    }
}
