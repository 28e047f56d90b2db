package org.malloc4j.anchors;

import org.malloc4j.Heap;

/** malloc4j behind the {@link Allocator} interface. */
public final class HeapAllocator implements Allocator {
    private final Heap heap;

    public HeapAllocator(Heap heap) {
        this.heap = heap;
    }

    public Heap heap() {
        return heap;
    }

    @Override
    public String name() {
        return "malloc4j";
    }

    @Override
    public long malloc(long size) {
        return heap.malloc(size);
    }

    @Override
    public void free(long address) {
        heap.free(address);
    }

    @Override
    public long realloc(long address, long size) {
        return heap.realloc(address, size);
    }

    @Override
    public long calloc(long count, long size) {
        return heap.calloc(count, size);
    }

    @Override
    public boolean isJava() {
        return true;
    }

    @Override
    public void releaseFreeMemory() {
        heap.trim();
    }

    @Override
    public void close() {
        heap.close();
    }
}
