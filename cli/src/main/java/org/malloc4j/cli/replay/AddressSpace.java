package org.malloc4j.cli.replay;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The whole address space as one segment, so that a block is reached by its address with no segment object per
 * block: {@code ALL.get(LONG, address)}. C2 compiles these accesses to plain loads and stores.
 */
final class AddressSpace {
    /** Every address, from 0. Accesses are as unchecked as C's: only the replay's own blocks are touched. */
    @SuppressWarnings("restricted")
    static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    /** An unaligned little-endian long: block tags are written and read with it. */
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private AddressSpace() {}
}
