package org.malloc4j.internal.monitor;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** JFR: a leak was reported: blocks live when their heap closed, or a block whose segments became unreachable. */
@Name("org.malloc4j.Leak")
@Label("Leak")
@Category({"malloc4j"})
@Description("Blocks that were never freed: live when the heap closed, or unreachable from the program")
@StackTrace(false)
public final class LeakEvent extends jdk.jfr.Event {
    @Label("Heap")
    public String heap;
    @Label("Kind")
    @Description("'close' (live at close) or 'unreachable' (found by the garbage collector)")
    public String kind;
    @Label("Blocks")
    public long blocks;
    @Label("Bytes")
    @DataAmount
    public long bytes;
    @Label("Reclaimed")
    @Description("Whether the heap freed the leaked block itself (reclaimLeaks)")
    public boolean reclaimed;
    @Label("Report")
    @Description("The blocks and where they were allocated, as text")
    public String report;
}
