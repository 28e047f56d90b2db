package org.malloc4j.internal.monitor;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.MemoryAddress;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** JFR: a block at least as large as the heap's threshold was allocated. */
@Name("org.malloc4j.LargeAllocation")
@Label("Large Allocation")
@Category({"malloc4j"})
@Description("A block at least as large as the heap's large-allocation threshold was allocated")
@StackTrace(true)
public final class LargeAllocationEvent extends jdk.jfr.Event {
    @Label("Heap")
    public String heap;
    @Label("Address")
    @MemoryAddress
    public long address;
    @Label("Size")
    @DataAmount
    public long size;
}
