package org.malloc4j.internal.stack;

import java.lang.foreign.MemorySegment;
import org.malloc4j.StackFrame;

/**
 * A frame of a {@link ThreadStack}: its depth, its unique id, its parent's id and the stack pointer to go back to.
 * Immutable; every method goes to the stack, which checks that this frame is the open top frame.
 */
final class Frame implements StackFrame {
    final ThreadStack stack;
    final int depth;
    final long id;
    final long parentId;
    final long mark;

    Frame(ThreadStack stack, int depth, long id, long parentId, long mark) {
        this.stack = stack;
        this.depth = depth;
        this.id = id;
        this.parentId = parentId;
        this.mark = mark;
    }

    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        return stack.allocate(this, byteSize, byteAlignment);
    }

    @Override
    public long allocateAddress(long byteSize, long byteAlignment) {
        return stack.bump(this, byteSize, byteAlignment);
    }

    @Override
    public int depth() {
        return depth;
    }

    @Override
    public void close() {
        stack.pop(this);
    }

    @Override
    public String toString() {
        return "StackFrame[depth " + depth + " of " + stack + "]";
    }
}
