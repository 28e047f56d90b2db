package org.malloc4j.internal.monitor;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Percentage;
import jdk.jfr.StackTrace;

/** JFR: a request failed for lack of memory, with the heap's figures at that moment. */
@Name("org.malloc4j.HeapExhausted")
@Label("Heap Exhausted")
@Category({"malloc4j"})
@Description("An allocation failed because the heap's limit or the OS did not allow it")
@StackTrace(true)
public final class ExhaustionEvent extends jdk.jfr.Event {
    @Label("Heap")
    public String heap;
    @Label("Request")
    @DataAmount
    public long request;
    @Label("Limit")
    @DataAmount
    public long limit;
    @Label("Committed")
    @DataAmount
    public long committed;
    @Label("Live")
    @DataAmount
    public long live;
    @Label("Free Committed")
    @DataAmount
    public long freeBytes;
    @Label("Largest Free Block")
    @DataAmount
    public long largestFreeBlock;
    @Label("External Fragmentation")
    @Description("1 - largest free block / free committed bytes")
    @Percentage
    public double externalFragmentation;
}
